import { delay } from "./_delay.ts";
import { readProcessCpuNs, type ThreadLoad, ThreadMeter } from "./_proc.ts";
import { percentile } from "./_stats.ts";
import { rateBetween, type WorkerSnapshot } from "./ws_load.ts";

/** What {@linkcode measureWindows} reads: a load generator's counters. */
export interface Measurable {
  snapshot(): Promise<WorkerSnapshot[]>;
  threads(): number[];
}

/** How long a measurement warms up and how long it measures. */
export interface WindowTiming {
  /** Load before counting starts, in ms. */
  warmupMs: number;
  /** One window, in ms. */
  windowMs: number;
  /** How many windows. */
  windows: number;
}

/** The latency figures of a measurement, in milliseconds. */
export interface LatencySummary {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** What one measurement found. */
export interface Measurement {
  /** Counted units (frames or requests) per second, one per window. */
  rates: number[];
  /** Every latency sample of the windows, in ms. */
  latencies: number[];
  /**
   * The server's main thread, which runs all of its JavaScript; of several
   * instances, their CPU time added up, and the busiest one's shares.
   */
  server: ThreadLoad;
  /** The busiest load generator thread. */
  client: ThreadLoad;
  /** Server CPU time per counted unit, in microseconds. */
  serverCpuUs: number;
  /** Redis's CPU time per counted unit, in microseconds, if it ran. */
  redisCpuUs?: number;
  /** `error` frames or failed requests seen in the windows. */
  errors: number;
  firstError: string | undefined;
}

/** The processes whose CPU time a measurement reads. */
export interface MeasuredServer {
  /** Each instance's process: its main thread is measured. */
  pids: number[];
  /** The Redis the instances share, if any: the whole process. */
  redisPid?: number | undefined;
}

/**
 * Lets the load run for the warm-up, then reads the counters at the end of
 * every window, and watches the server's and the load generator's threads
 * (and Redis's CPU time) over the whole measured time.
 */
export async function measureWindows(
  load: Measurable,
  measured: MeasuredServer,
  timing: WindowTiming,
  signal: AbortSignal,
): Promise<Measurement> {
  await delay(timing.warmupMs, signal);
  const first = await load.snapshot();
  const serverMeters = measured.pids.map((pid) => new ThreadMeter(pid, [pid]));
  const { redisPid } = measured;
  const redisStartNs = redisPid === undefined ? 0 : readProcessCpuNs(redisPid);
  const clientMeter = new ThreadMeter(Deno.pid, load.threads());
  const rates = [];
  const latencies = [];
  let last = first;
  for (let i = 0; i < timing.windows; i++) {
    await delay(timing.windowMs, signal);
    const current = await load.snapshot();
    rates.push(rateBetween(last, current));
    for (const worker of current) {
      for (const latency of worker.latencies) latencies.push(latency);
    }
    last = current;
  }
  const server = serverMeters.map((meter) => meter.read()[0]!).reduce((
    a,
    b,
  ) => ({
    runNs: a.runNs + b.runNs,
    busy: Math.max(a.busy, b.busy),
    demand: Math.max(a.demand, b.demand),
  }));
  const redisNs = redisPid === undefined
    ? undefined
    : readProcessCpuNs(redisPid) - redisStartNs;
  const client = clientMeter.read().reduce((a, b) =>
    a.demand >= b.demand ? a : b
  );
  const counted = last.reduce(
    (sum, worker, i) => sum + worker.received - first[i]!.received,
    0,
  );
  return {
    rates,
    latencies,
    server,
    client,
    serverCpuUs: server.runNs / 1000 / counted,
    ...redisNs === undefined ? {} : { redisCpuUs: redisNs / 1000 / counted },
    errors: last.reduce(
      (sum, worker, i) => sum + worker.errors - first[i]!.errors,
      0,
    ),
    firstError: last.find((worker) => worker.firstError)?.firstError,
  };
}

/**
 * Runs `drive` (the load: rounds, for instance) while `measure` measures it.
 * When either fails, the other stops, and the first error is thrown.
 */
export async function whileDriving<T>(
  drive: (signal: AbortSignal) => Promise<void>,
  measure: (signal: AbortSignal) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  const driving = drive(both).catch((error) => stop.abort(error));
  try {
    return await measure(both);
  } finally {
    stop.abort();
    await driving;
  }
}

/** The percentiles of some latencies. */
export function summarizeLatency(latencies: readonly number[]): LatencySummary {
  const sorted = latencies.toSorted((a, b) => a - b);
  return {
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
  };
}
