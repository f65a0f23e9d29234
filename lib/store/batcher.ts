/** Options of {@linkcode Batcher}. */
export interface BatcherOptions {
  /**
   * How long the first item of a batch waits for company, in milliseconds.
   * 0 still groups everything that arrives in one turn of the event loop.
   * @default {0}
   */
  delayMs?: number | undefined;
}

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * Groups the items added within one turn of the event loop (or `delayMs`)
 * and writes them with one call, such as one database transaction. Each
 * `add()` settles only when the write of its batch has finished, so a caller
 * never acts on an item that was not written.
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
  #delayMs: number;
  #waiting: Waiting<T, R>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param write writes a whole batch and returns one result per item, in
   *   order; if it throws, every `add()` of the batch rejects with the error
   */
  constructor(write: (items: T[]) => R[], options: BatcherOptions = {}) {
    this.#write = write;
    this.#delayMs = options.delayMs ?? 0;
  }

  /** Queues an item; resolves with its result once its batch is written. */
  add(item: T): Promise<R> {
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    this.#waiting.push({ item, resolve, reject });
    this.#timer ??= setTimeout(() => this.flush(), this.#delayMs);
    return promise;
  }

  /** Writes the queued items now, for example before closing. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
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
