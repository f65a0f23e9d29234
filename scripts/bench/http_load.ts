import { startWorkers, type WorkerRpc } from "./_worker_rpc.ts";
import type { WorkerSnapshot } from "./ws_load.ts";

/** A command to a REST load worker. */
export type HttpCommand =
  | {
    kind: "start";
    url: string;
    concurrency: number;
    rooms: number;
    firstClient: number;
  }
  | { kind: "reset" }
  | { kind: "snapshot" }
  | { kind: "stop" };

/** Options of {@linkcode HttpLoad.start}. */
export interface HttpLoadOptions {
  /** The server's HTTP URL. */
  url: string;
  /** Requests in flight at any time, over all workers. */
  concurrency: number;
  /** How many rooms `POST /send` spreads its messages over. */
  rooms: number;
  /** How many worker threads share the loops. */
  workers: number;
}

const CALL_TIMEOUT_MS = 10_000;

/** REST clients in worker threads, each loop waiting for its last answer. */
export class HttpLoad {
  #workers: WorkerRpc<HttpCommand, WorkerSnapshot | void>[];
  #threads: () => number[];

  private constructor(
    started: ReturnType<
      typeof startWorkers<HttpCommand, WorkerSnapshot | void>
    >,
  ) {
    this.#workers = started.workers;
    this.#threads = started.threads;
  }

  /** Starts the workers and their request loops. */
  static async start(options: HttpLoadOptions): Promise<HttpLoad> {
    const count = options.workers;
    const load = new HttpLoad(
      startWorkers(new URL("./http_worker.ts", import.meta.url), count),
    );
    const perWorker = Math.ceil(options.concurrency / count);
    try {
      await load.#all((w) => ({
        kind: "start",
        url: options.url,
        concurrency: Math.min(perWorker, options.concurrency - w * perWorker),
        rooms: options.rooms,
        firstClient: w * perWorker,
      }));
    } catch (error) {
      await load.close();
      throw error;
    }
    return load;
  }

  /** Zeroes the request counters. */
  async reset(): Promise<void> {
    await this.#all(() => ({ kind: "reset" }));
  }

  /** Every worker's counters: `received` counts completed requests. */
  async snapshot(): Promise<WorkerSnapshot[]> {
    return await this.#all(() => ({ kind: "snapshot" })) as WorkerSnapshot[];
  }

  /** The worker threads' ids, to watch how busy they are. */
  threads(): number[] {
    return this.#threads();
  }

  /** Lets every loop finish its request (for at most 5 s), then stops. */
  async close(): Promise<void> {
    try {
      await this.#all(() => ({ kind: "stop" }), 5000);
    } catch {
      // Terminating the workers drops their connections anyway.
    } finally {
      for (const worker of this.#workers) worker.terminate();
    }
  }

  #all(
    command: (index: number) => HttpCommand,
    timeoutMs = CALL_TIMEOUT_MS,
  ): Promise<(WorkerSnapshot | void)[]> {
    return Promise.all(
      this.#workers.map((worker, i) => worker.call(command(i), timeoutMs)),
    );
  }
}
