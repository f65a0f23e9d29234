import { WorkerRpc } from "./_worker_rpc.ts";
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

const CALL_TIMEOUT_MS = 10_000;

/** REST clients in worker threads, each loop waiting for its last answer. */
export class HttpLoad {
  #workers: WorkerRpc<HttpCommand, WorkerSnapshot | void>[];
  #threads: number[] = [];

  private constructor(workers: number) {
    const url = new URL("./http_worker.ts", import.meta.url);
    this.#workers = Array.from({ length: workers }, () => new WorkerRpc(url));
  }

  /** Starts the worker threads, ready to send. */
  static async open(options: HttpLoadOptions): Promise<HttpLoad> {
    const { url, rooms, concurrency, workers } = options;
    const load = new HttpLoad(workers);
    const perWorker = Math.ceil(concurrency / workers);
    try {
      load.#threads = await Promise.all(load.#workers.map((w) => w.threadId()));
      await load.#all((w) => ({
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
    await this.#all(() => ({ kind: "start" }));
  }

  /** Stops the loops once their requests are answered. */
  async stop(): Promise<void> {
    await this.#all(() => ({ kind: "stop" }));
  }

  /** Every worker's counters: `received` counts answered requests. */
  async snapshot(): Promise<WorkerSnapshot[]> {
    return await this.#all(() => ({ kind: "snapshot" })) as WorkerSnapshot[];
  }

  /** The worker threads' ids, to watch how busy they are. */
  threads(): number[] {
    return this.#threads;
  }

  /** Stops the loops (for at most 5 s) and the workers. */
  async close(): Promise<void> {
    try {
      await this.#all(() => ({ kind: "close" }), 5000);
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
