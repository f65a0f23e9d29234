/**
 * Calls into a Worker as if it were an object: every command posted gets
 * exactly one reply, matched by id, within a time limit.
 *
 * @module
 */
import { threadIds } from "./_proc.ts";

interface Envelope<T> {
  id: number;
  body?: T;
  error?: string;
}

/** The main thread's handle on a Worker that answers commands. */
export class WorkerRpc<Command, Reply> {
  #worker: Worker;
  #nextId = 0;
  #pending = new Map<number, PromiseWithResolvers<Reply>>();

  /** Starts the worker module at `url`. */
  constructor(url: URL) {
    this.#worker = new Worker(url, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<Envelope<Reply>>) => {
      const { id, body, error } = event.data;
      const pending = this.#pending.get(id);
      this.#pending.delete(id);
      if (error !== undefined) pending?.reject(new Error(error));
      else pending?.resolve(body!);
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#failAll(new Error(`load worker crashed: ${event.message}`));
    };
  }

  /** Posts a command and waits for its reply, at most `timeoutMs`. */
  async call(command: Command, timeoutMs: number): Promise<Reply> {
    const id = this.#nextId++;
    const pending = Promise.withResolvers<Reply>();
    this.#pending.set(id, pending);
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      pending.reject(
        new Error(`load worker gave no answer in ${timeoutMs} ms`),
      );
    }, timeoutMs);
    this.#worker.postMessage({ id, body: command });
    try {
      return await pending.promise;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the worker at once; calls still waiting fail. */
  terminate(): void {
    this.#worker.terminate();
    this.#failAll(new Error("load worker terminated"));
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

/**
 * Starts `count` workers and finds their threads, so that how busy they are
 * can be read from `/proc` (Deno names worker threads `worker-<n>`).
 */
export function startWorkers<Command, Reply>(
  url: URL,
  count: number,
): { workers: WorkerRpc<Command, Reply>[]; threads: () => number[] } {
  const before = new Set(threadIds(Deno.pid, "worker-"));
  const workers = Array.from(
    { length: count },
    () => new WorkerRpc<Command, Reply>(url),
  );
  return {
    workers,
    threads: () =>
      threadIds(Deno.pid, "worker-").filter((tid) => !before.has(tid)),
  };
}

/**
 * Inside a worker: answers every command with `handle`'s result, or with
 * its error's message.
 */
export function answerCalls<Command, Reply>(
  handle: (command: Command) => Reply | Promise<Reply>,
): void {
  // Typed by hand: the "deno.worker" lib would clash with the main
  // thread's types when the whole project is checked at once.
  const scope = self as unknown as {
    onmessage: (event: MessageEvent<Envelope<Command>>) => void;
    postMessage(message: Envelope<Reply>): void;
  };
  scope.onmessage = async (event) => {
    const { id, body } = event.data;
    try {
      scope.postMessage({ id, body: await handle(body!) });
    } catch (error) {
      scope.postMessage({
        id,
        error: (error as Error).message ?? String(error),
      });
    }
  };
}
