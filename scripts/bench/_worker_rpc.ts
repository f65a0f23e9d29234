/**
 * Calls into a Worker as if it were an object: every command posted gets
 * exactly one reply, matched by id, within a time limit.
 *
 * @module
 */

/** A message between the threads; `body` undefined asks for the thread id. */
interface Envelope<T> {
  id: number;
  body?: T;
  error?: string;
}

/** The main thread's handle on a Worker that answers commands. */
export class WorkerRpc<Command, Reply> {
  #worker: Worker;
  #nextId = 0;
  #pending = new Map<number, PromiseWithResolvers<unknown>>();

  /** Starts the worker module at `url`. */
  constructor(url: URL) {
    this.#worker = new Worker(url, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<Envelope<unknown>>) => {
      const { id, body, error } = event.data;
      const pending = this.#pending.get(id);
      this.#pending.delete(id);
      if (error !== undefined) pending?.reject(new Error(error));
      else pending?.resolve(body);
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#failAll(new Error(`load worker crashed: ${event.message}`));
    };
  }

  /** Posts a command and waits for its reply, at most `timeoutMs`. */
  call(command: Command, timeoutMs: number): Promise<Reply> {
    return this.#post(command, timeoutMs) as Promise<Reply>;
  }

  /** The id of the worker's thread, to watch how busy it is in `/proc`. */
  threadId(): Promise<number> {
    return this.#post(undefined, 10_000) as Promise<number>;
  }

  /** Stops the worker at once; calls still waiting fail. */
  terminate(): void {
    this.#worker.terminate();
    this.#failAll(new Error("load worker terminated"));
  }

  async #post(body: Command | undefined, timeoutMs: number): Promise<unknown> {
    const id = this.#nextId++;
    const pending = Promise.withResolvers<unknown>();
    this.#pending.set(id, pending);
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      pending.reject(
        new Error(`load worker gave no answer in ${timeoutMs} ms`),
      );
    }, timeoutMs);
    this.#worker.postMessage({ id, body });
    try {
      return await pending.promise;
    } finally {
      clearTimeout(timer);
    }
  }

  #failAll(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
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
    postMessage(message: Envelope<Reply | number>): void;
  };
  scope.onmessage = async (event) => {
    const { id, body } = event.data;
    try {
      scope.postMessage({
        id,
        body: body === undefined ? ownThreadId() : await handle(body),
      });
    } catch (error) {
      scope.postMessage({
        id,
        error: (error as Error).message ?? String(error),
      });
    }
  };
}

/** The calling thread's id: `/proc/thread-self` links to `<pid>/task/<tid>`. */
function ownThreadId(): number {
  return Number(Deno.readLinkSync("/proc/thread-self").split("/").at(-1));
}
