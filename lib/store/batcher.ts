import { clearImmediate, setImmediate } from "node:timers";

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/** Options of {@linkcode Batcher}. */
export interface BatcherOptions {
  /**
   * Decides whether a failed write is tried again: the delay before the
   * next try, in milliseconds, or `undefined` to give up. Meanwhile the
   * batch stays first in line, and what is added joins it, so that items
   * are still written in the order they were added.
   *
   * @param error what the write threw
   * @param failedSince when the batch's first failed try began (`performance.now()`)
   * @default {() => undefined}
   */
  retry?:
    | ((error: unknown, failedSince: number) => number | undefined)
    | undefined;
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
  #retry: (error: unknown, failedSince: number) => number | undefined;
  #waiting: Waiting<T, R>[] = [];
  #scheduled: ReturnType<typeof setImmediate> | undefined;
  /** Set while a failed batch waits to be tried again. */
  #retrying: ReturnType<typeof setTimeout> | undefined;
  #failedSince: number | undefined;

  /**
   * Creates a batcher around the function that writes a batch.
   *
   * @param write writes a whole batch and returns one result per item, in
   *   order; if it throws (and is not retried), every `add()` of the batch
   *   rejects with the error
   */
  constructor(write: (items: T[]) => R[], options: BatcherOptions = {}) {
    this.#write = write;
    this.#retry = options.retry ?? (() => undefined);
  }

  /** Queues an item; resolves with its result once its batch is written. */
  add(item: T): Promise<R> {
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    this.#waiting.push({ item, resolve, reject });
    if (!this.#retrying) this.#scheduled ??= setImmediate(() => this.#run());
    return promise;
  }

  /**
   * Writes the queued items now, for example before closing: a batch that
   * waits to be tried again is tried once more, and if that fails its
   * items reject.
   */
  flush(): void {
    clearTimeout(this.#retrying);
    this.#retrying = undefined;
    this.#run(false);
  }

  #run(mayRetry = true): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const batch = this.#waiting;
    if (batch.length === 0) return;
    this.#waiting = [];
    let results: R[];
    try {
      results = this.#write(batch.map((waiting) => waiting.item));
    } catch (error) {
      this.#failedSince ??= performance.now();
      const delay = mayRetry
        ? this.#retry(error, this.#failedSince)
        : undefined;
      if (delay === undefined) {
        this.#failedSince = undefined;
        for (const waiting of batch) waiting.reject(error);
        return;
      }
      // Back to the head of the line; what comes meanwhile joins it.
      this.#waiting = [...batch, ...this.#waiting];
      this.#retrying = setTimeout(() => {
        this.#retrying = undefined;
        this.#run();
      }, delay);
      return;
    }
    this.#failedSince = undefined;
    batch.forEach((waiting, i) => waiting.resolve(results[i]!));
  }
}
