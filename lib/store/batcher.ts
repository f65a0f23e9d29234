import { clearImmediate, setImmediate } from "node:timers";

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Groups the items added within one turn of the event loop and writes them
 * with one call, such as one database transaction. Each `add()` settles
 * only when the write of its batch has finished, so a caller never acts on
 * an item that was not written.
 *
 * The write runs in `setImmediate`, right after the I/O callbacks of the
 * current turn: everything that arrived together goes together, and the
 * first item waits no longer than the turn. (`setTimeout(0)` would wait up
 * to 4 ms once timers nest, which the HTML timer rules demand.)
 *
 * @example
 * ```ts
 * const batcher = new Batcher((lines: string[]) => {
 *   console.log(`one write of ${lines.length} lines`);
 *   return lines.map((line) => line.length);
 * });
 * const lengths = await Promise.all([batcher.add("a"), batcher.add("bc")]);
 * // logs "one write of 2 lines"; lengths is [1, 2]
 * ```
 */
export class Batcher<T, R> {
  #write: (items: T[]) => R[];
  #waiting: Waiting<T, R>[] = [];
  #scheduled: ReturnType<typeof setImmediate> | undefined;

  /**
   * Creates a batcher around the function that writes a batch.
   *
   * @param write writes a whole batch and returns one result per item, in
   *   order; if it throws, every `add()` of the batch rejects with the error
   */
  constructor(write: (items: T[]) => R[]) {
    this.#write = write;
  }

  /** Queues an item; resolves with its result once its batch is written. */
  add(item: T): Promise<R> {
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    this.#waiting.push({ item, resolve, reject });
    this.#scheduled ??= setImmediate(() => this.flush());
    return promise;
  }

  /** Writes the queued items now, for example before closing. */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const batch = this.#waiting;
    if (batch.length === 0) return;
    this.#waiting = [];
    let results: R[];
    try {
      results = this.#write(batch.map((waiting) => waiting.item));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, i) => waiting.resolve(results[i]!));
  }
}
