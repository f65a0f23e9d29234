import type { ThreadLoad } from "./_proc.ts";
import { median } from "./_stats.ts";
import { HttpLoad } from "./http_load.ts";
import { measureWindows, whileDriving, type WindowTiming } from "./measure.ts";
import { startServerProcess } from "./server_process.ts";
import { sinkServer } from "./servers.ts";
import { WsLoad } from "./ws_load.ts";

/** What the load generator reached against the sink server. */
export interface Ceiling {
  /** Load generator threads. */
  workers: number;
  /** Frames or requests per second counted. */
  rate: number;
  /** The busiest load generator thread. */
  client: ThreadLoad;
  /** The sink's main thread. */
  sink: ThreadLoad;
}

/** The load generator's ceilings, and the thread counts chosen from them. */
export interface Ceilings {
  websocket: Ceiling[];
  http: Ceiling[];
  /** Threads the WebSocket scenarios use. */
  websocketWorkers: number;
  /** Threads the REST scenario uses. */
  httpWorkers: number;
}

/** Options of {@linkcode measureCeilings}. */
export interface CeilingOptions {
  timing: WindowTiming;
  /** Use this many threads; measure only with it. */
  workers?: number | undefined;
  /** Requests in flight for the HTTP ceiling. */
  httpConcurrency: number;
  signal: AbortSignal;
}

/** A thread that ran or waited to run this much of the time was saturated. */
export const SATURATED = 0.9;
/** Frames the sink sends per client and round: a `room16` round's worth. */
const SINK_FRAMES = 512;
const SINK_CLIENTS = 16;

/**
 * Measures how fast the load generator itself can go, against a sink server
 * that does almost nothing. With one thread first: if that thread was
 * saturated while the sink was not, one thread cannot keep up and two are
 * tried; the faster setting is used for the scenarios.
 */
export async function measureCeilings(
  options: CeilingOptions,
): Promise<Ceilings> {
  await using sink = await startServerProcess(sinkServer());
  const { timing, signal } = options;

  async function websocket(workers: number): Promise<Ceiling> {
    const load = await WsLoad.open({
      url: `ws://127.0.0.1:${sink.port}`,
      clients: Array.from(
        { length: SINK_CLIENTS },
        (_, i) => ({ name: `client-${i}`, sends: true }),
      ),
      workers,
    });
    try {
      const measured = await whileDriving(
        async (signal) => {
          while (!signal.aborted) await load.round(SINK_FRAMES);
        },
        (signal) => measureWindows(load, sink, timing, signal),
        signal,
      );
      return {
        workers,
        rate: median(measured.rates),
        client: measured.client,
        sink: measured.server,
      };
    } finally {
      await load.close();
    }
  }

  async function http(workers: number): Promise<Ceiling> {
    const load = await HttpLoad.open({
      url: `http://127.0.0.1:${sink.port}`,
      concurrency: options.httpConcurrency,
      rooms: 1,
      workers,
    });
    try {
      await load.start();
      const measured = await measureWindows(load, sink, timing, signal);
      return {
        workers,
        rate: median(measured.rates),
        client: measured.client,
        sink: measured.server,
      };
    } finally {
      await load.close();
    }
  }

  const websockets = await tryWorkers(websocket, options.workers);
  const https = await tryWorkers(http, options.workers);
  return {
    websocket: websockets.tried,
    http: https.tried,
    websocketWorkers: websockets.workers,
    httpWorkers: https.workers,
  };
}

/**
 * Measures with one thread (or the `forced` count), and with two as well
 * when one thread was saturated but the sink was not.
 */
async function tryWorkers(
  measure: (workers: number) => Promise<Ceiling>,
  forced: number | undefined,
): Promise<{ tried: Ceiling[]; workers: number }> {
  const first = await measure(forced ?? 1);
  const keptUp = first.client.demand < SATURATED ||
    first.sink.demand >= SATURATED;
  if (forced !== undefined || keptUp) {
    return { tried: [first], workers: first.workers };
  }
  const second = await measure(2);
  const faster = second.rate > first.rate ? second : first;
  return { tried: [first, second], workers: faster.workers };
}
