import { WorkerRpc } from "./_worker_rpc.ts";
import type { WorkerSnapshot } from "./ws_load.ts";

/** The commands every load worker understands, whatever else it does. */
type PoolCommand = { kind: "snapshot" } | { kind: "close" };

/** How long a command to the workers may take by default. */
const CALL_TIMEOUT_MS = 10_000;

/**
 * Load worker threads that run one module and take their commands together:
 * the part the WebSocket and the REST load generators share.
 */
export class WorkerPool<Command extends { kind: string }> {
  readonly #workers: WorkerRpc<Command | PoolCommand, WorkerSnapshot | void>[];
  #threads: number[] = [];

  /** Starts `count` workers of the module at `url`. */
  constructor(url: URL, count: number) {
    this.#workers = Array.from({ length: count }, () => new WorkerRpc(url));
  }

  /** Learns the workers' thread ids, once they run. */
  async start(): Promise<void> {
    this.#threads = await Promise.all(this.#workers.map((w) => w.threadId()));
  }

  /** The worker threads' ids, to watch how busy they are. */
  threads(): number[] {
    return this.#threads;
  }

  /** Sends each worker its command (by index) and waits for every reply. */
  all(
    command: (index: number) => Command,
    timeoutMs = CALL_TIMEOUT_MS,
  ): Promise<(WorkerSnapshot | void)[]> {
    return Promise.all(
      this.#workers.map((worker, i) => worker.call(command(i), timeoutMs)),
    );
  }

  /** Every worker's counters. */
  async snapshot(): Promise<WorkerSnapshot[]> {
    const replies = await Promise.all(
      this.#workers.map((worker) =>
        worker.call({ kind: "snapshot" }, CALL_TIMEOUT_MS)
      ),
    );
    return replies as WorkerSnapshot[];
  }

  /** Lets the workers close their clients (for at most 5 s), then stops them. */
  async close(): Promise<void> {
    try {
      await Promise.all(
        this.#workers.map((worker) => worker.call({ kind: "close" }, 5000)),
      );
    } catch {
      // Terminating the workers drops their connections anyway.
    } finally {
      for (const worker of this.#workers) worker.terminate();
    }
  }
}
