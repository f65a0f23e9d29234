import { WorkerPool } from "./_worker_pool.ts";
import type { WorkerSnapshot } from "./ws_load.ts";

/** Options of {@linkcode HttpLoad.open}. */
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

/** A command to a REST load worker. */
export type HttpCommand =
  | {
    kind: "open";
    url: string;
    rooms: number;
    /** The number in the `from` of its first loop. */
    firstClient: number;
    loops: number;
  }
  | { kind: "start" }
  | { kind: "stop" }
  | { kind: "snapshot" }
  | { kind: "close" };

/** REST clients in worker threads, each loop waiting for its last answer. */
export class HttpLoad {
  #pool: WorkerPool<HttpCommand>;

  private constructor(workers: number) {
    const url = new URL("./http_worker.ts", import.meta.url);
    this.#pool = new WorkerPool(url, workers);
  }

  /** Starts the worker threads, ready to send. */
  static async open(options: HttpLoadOptions): Promise<HttpLoad> {
    const { url, rooms, concurrency, workers } = options;
    const load = new HttpLoad(workers);
    const perWorker = Math.ceil(concurrency / workers);
    try {
      await load.#pool.start();
      await load.#pool.all((w) => ({
        kind: "open",
        url,
        rooms,
        firstClient: w * perWorker,
        loops: Math.min(perWorker, concurrency - w * perWorker),
      }));
    } catch (error) {
      await load.close();
      throw error;
    }
    return load;
  }

  /** Starts the request loops. */
  async start(): Promise<void> {
    await this.#pool.all(() => ({ kind: "start" }));
  }

  /** Stops the loops once their requests are answered. */
  async stop(): Promise<void> {
    await this.#pool.all(() => ({ kind: "stop" }));
  }

  /** Every worker's counters: `received` counts answered requests. */
  snapshot(): Promise<WorkerSnapshot[]> {
    return this.#pool.snapshot();
  }

  /** The worker threads' ids, to watch how busy they are. */
  threads(): number[] {
    return this.#pool.threads();
  }

  /** Stops the loops (for at most 5 s) and the workers. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
