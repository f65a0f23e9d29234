import { WorkerPool } from "./_worker_pool.ts";

/** One simulated client. */
export interface ClientSpec {
  /** Its display name, `from` in its frames. */
  name: string;
  /** The room it joins; none for a client of the sink server. */
  room?: string;
  /** Whether it sends in rounds and paced mode, or only listens. */
  sends: boolean;
  /** The server it connects to, if not the load's. */
  url?: string;
}

/** A command to a load worker. */
export type WsCommand =
  | { kind: "connect"; url: string; clients: ClientSpec[]; concurrency: number }
  | { kind: "reset"; sampleEvery: number }
  | { kind: "round"; messages: number; expected: number }
  | { kind: "pace"; intervalMs: number }
  | { kind: "stop-pacing" }
  | { kind: "snapshot" }
  | { kind: "close" };

/** A worker's counters at one moment. */
export interface WorkerSnapshot {
  /** `receive-message` frames received since the last reset. */
  received: number;
  /** When, in milliseconds since the epoch. */
  at: number;
  /** Sampled latencies from send to receipt since the last snapshot, in ms. */
  latencies: number[];
  /** `error` frames received, and the first one. */
  errors: number;
  firstError: string | undefined;
}

/** Options of {@linkcode WsLoad.open}. */
export interface WsLoadOptions {
  /** The server's WebSocket URL. */
  url: string;
  clients: ClientSpec[];
  /** How many worker threads share the clients. */
  workers: number;
  /**
   * How long connecting and joining may take.
   * @default {30000}
   */
  timeoutMs?: number;
}

/** Connections opened at once per worker: a burst would overflow the backlog. */
const CONNECT_CONCURRENCY = 64;

/**
 * WebSocket clients spread over worker threads, driven from the main thread:
 * closed-loop rounds, paced sending, and counters to read.
 */
export class WsLoad {
  #pool: WorkerPool<WsCommand>;
  /** Per worker: frames its clients receive when every sender sends one. */
  #fanIn: number[];

  private constructor(workers: number, fanIn: number[]) {
    const url = new URL("./ws_worker.ts", import.meta.url);
    this.#pool = new WorkerPool(url, workers);
    this.#fanIn = fanIn;
  }

  /** Starts the workers, connects every client and joins its room. */
  static async open(options: WsLoadOptions): Promise<WsLoad> {
    const { clients, workers: count } = options;
    // Round-robin, so that every worker gets members of every room.
    const shares = Array.from(
      { length: count },
      (_, w) => clients.filter((_, i) => i % count === w),
    );
    const senders = sendersPerRoom(clients);
    const fanIn = shares.map((share) =>
      share.reduce((sum, client) => sum + framesPerMessage(client, senders), 0)
    );
    const load = new WsLoad(count, fanIn);
    try {
      await load.#pool.start();
      await load.#pool.all((w) => ({
        kind: "connect",
        url: options.url,
        clients: shares[w]!,
        concurrency: CONNECT_CONCURRENCY,
      }), options.timeoutMs ?? 30_000);
      await load.reset();
    } catch (error) {
      await load.close();
      throw error;
    }
    return load;
  }

  /** Zeroes the counters; from now on one frame in `sampleEvery` is timed. */
  async reset(sampleEvery = 64): Promise<void> {
    await this.#pool.all(() => ({ kind: "reset", sampleEvery }));
  }

  /**
   * One closed-loop round: every sender sends `messages` messages (a sink
   * client asks for that many frames) and the round ends when every client
   * has received every frame it was due.
   */
  async round(messages: number): Promise<void> {
    await this.#pool.all((w) => ({
      kind: "round",
      messages,
      expected: this.#fanIn[w]! * messages,
    }));
  }

  /** From now on every sender sends one message every `intervalMs`. */
  async pace(intervalMs: number): Promise<void> {
    await this.#pool.all(() => ({ kind: "pace", intervalMs }));
  }

  /** Stops the paced senders. */
  async stopPacing(): Promise<void> {
    await this.#pool.all(() => ({ kind: "stop-pacing" }));
  }

  /** Every worker's counters; latencies are handed over once. */
  snapshot(): Promise<WorkerSnapshot[]> {
    return this.#pool.snapshot();
  }

  /** The worker threads' ids, to watch how busy they are. */
  threads(): number[] {
    return this.#pool.threads();
  }

  /** Closes every client (for at most 5 s) and stops the workers. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

function sendersPerRoom(
  clients: ClientSpec[],
): Map<string | undefined, number> {
  const senders = new Map<string | undefined, number>();
  for (const { room, sends } of clients) {
    if (sends) senders.set(room, (senders.get(room) ?? 0) + 1);
  }
  return senders;
}

/**
 * The frames a client receives when every sender sends one message: one
 * from each sender of its room, or, from a sink, the one it asked for.
 */
function framesPerMessage(
  client: ClientSpec,
  senders: Map<string | undefined, number>,
): number {
  return client.room === undefined ? 1 : senders.get(client.room) ?? 0;
}

/** The total rate, per second, between two snapshots of the same workers. */
export function rateBetween(
  before: WorkerSnapshot[],
  after: WorkerSnapshot[],
): number {
  let rate = 0;
  for (const [i, end] of after.entries()) {
    const start = before[i]!;
    rate += (end.received - start.received) / ((end.at - start.at) / 1000);
  }
  return rate;
}
