import { delay } from "./_delay.ts";
import { readRssBytes } from "./_proc.ts";
import { median } from "./_stats.ts";
import { HttpLoad } from "./http_load.ts";
import {
  type LatencySummary,
  type Measurement,
  measureWindows,
  summarizeLatency,
  whileDriving,
  type WindowTiming,
} from "./measure.ts";
import type {
  IdleScenario,
  RestScenario,
  RoundsScenario,
} from "./scenarios.ts";
import type { ServerProcess } from "./server_process.ts";
import type { Runtime } from "./servers.ts";
import { type ClientSpec, WsLoad } from "./ws_load.ts";

/** How long each part of a run lasts. */
export interface Timing extends WindowTiming {
  /** Windows of the paced phase (its warm-up is half the usual one). */
  pacedWindows: number;
}

/** A measurement with its latencies summarized. */
export interface Figures extends Measurement {
  latency: LatencySummary;
}

/** What one run of a scenario against one server found. */
export interface RunResult {
  /** The server's name: `ours` or `baseline`. */
  server: string;
  /** What the server ran on. */
  runtime: Runtime;
  /** The server's resident memory at the end of the run, in bytes. */
  rssBytes: number;
  /** Closed-loop rounds, or REST requests. */
  load?: Figures;
  /** The paced phase, at `offeredRate` frames per second. */
  paced?: Figures & { offeredRate: number };
  /** The idle connections. */
  idle?: {
    connections: number;
    rssBeforeBytes: number;
    bytesPerConnection: number;
    connectMs: number;
  };
}

/** A server with a scenario's clients connected, ready for runs. */
export type LoadedServer =
  & AsyncDisposable
  & { server: ServerProcess }
  & (
    | { kind: "rounds"; scenario: RoundsScenario; load: WsLoad }
    | { kind: "rest"; scenario: RestScenario; load: HttpLoad }
  );

/** Options of {@linkcode measureRun}. */
export interface RunOptions {
  timing: Timing;
  /**
   * Frames per second to offer in the paced phase, given this run's
   * closed-loop rate; none skips the phase.
   */
  pacedRate?: ((closedLoopRate: number) => number | undefined) | undefined;
  /** Aborts the run: the scenario's time is up. */
  signal: AbortSignal;
}

/** Latency is timed on one frame in this many: closed loop, paced. */
const SAMPLE_EVERY = { closedLoop: 64, paced: 8 };

/**
 * The clients of a scenario, room by room: the first members send. With
 * several instances, each room's members take turns between them, so that
 * every message is delivered on every instance.
 */
function roomClients(
  scenario: RoundsScenario | IdleScenario,
  server: ServerProcess,
): ClientSpec[] {
  const senders = scenario.kind === "rounds" ? scenario.sendersPerRoom : 0;
  const { rooms, membersPerRoom } = scenario;
  const urls = server.ports.map((port) => `ws://127.0.0.1:${port}`);
  return Array.from({ length: rooms * membersPerRoom }, (_, i) => ({
    name: `client-${i}`,
    room: `room-${Math.floor(i / membersPerRoom)}`,
    sends: i % membersPerRoom < senders,
    url: urls[i % urls.length]!,
  }));
}

/**
 * Connects a scenario's clients to a running server; the load stays idle
 * until a run drives it. Disposing of it stops the server, then the
 * clients.
 */
export async function loadServer(
  server: ServerProcess,
  scenario: RoundsScenario | RestScenario,
  workers: number,
): Promise<LoadedServer> {
  if (scenario.kind === "rest") {
    const load = await HttpLoad.open({
      url: `http://127.0.0.1:${server.port}`,
      concurrency: scenario.concurrency,
      rooms: scenario.rooms,
      workers,
    });
    const dispose = () => stopServerFirst(server, load);
    return {
      kind: "rest",
      scenario,
      load,
      server,
      [Symbol.asyncDispose]: dispose,
    };
  }
  const load = await WsLoad.open({
    url: `ws://127.0.0.1:${server.port}`,
    clients: roomClients(scenario, server),
    workers,
  });
  const dispose = () => stopServerFirst(server, load);
  return {
    kind: "rounds",
    scenario,
    load,
    server,
    [Symbol.asyncDispose]: dispose,
  };
}

/**
 * Stops the server, then closes the clients. The other way round, n members
 * leaving a room one by one would make the server send n²/2 `leave-room`
 * frames first.
 */
async function stopServerFirst(
  server: ServerProcess,
  load: { close(): Promise<void> },
): Promise<void> {
  await server.stop();
  await load.close();
}

/**
 * One run: measures a loaded server under its scenario's load, which runs
 * only for the time of the measurement.
 */
export function measureRun(
  loaded: LoadedServer,
  options: RunOptions,
): Promise<RunResult> {
  return loaded.kind === "rest"
    ? measureRequests(loaded.server, loaded.load, options)
    : measureRounds(loaded.server, loaded.scenario, loaded.load, options);
}

async function measureRequests(
  server: ServerProcess,
  load: HttpLoad,
  { timing, signal }: RunOptions,
): Promise<RunResult> {
  await load.start();
  try {
    const requests = await measureWindows(load, server, timing, signal);
    return {
      server: server.name,
      runtime: server.runtime,
      rssBytes: readRssBytes(server.pid),
      load: withLatency(requests),
    };
  } finally {
    await load.stop();
  }
}

/** Closed-loop rounds, then, if the scenario asks for it, a paced phase. */
async function measureRounds(
  server: ServerProcess,
  scenario: RoundsScenario,
  load: WsLoad,
  options: RunOptions,
): Promise<RunResult> {
  const { timing, signal } = options;
  await load.reset(SAMPLE_EVERY.closedLoop);
  const closedLoop = await whileDriving(
    async (signal) => {
      while (!signal.aborted) await load.round(scenario.messages);
    },
    (signal) => measureWindows(load, server, timing, signal),
    signal,
  );
  const result: RunResult = {
    server: server.name,
    runtime: server.runtime,
    rssBytes: readRssBytes(server.pid),
    load: withLatency(closedLoop),
  };
  const pacedRate = scenario.paced &&
    options.pacedRate?.(median(closedLoop.rates));
  if (!pacedRate) return result;

  // Every message reaches every member of its room.
  const messagesPerSecond = pacedRate / scenario.membersPerRoom;
  const senders = scenario.rooms * scenario.sendersPerRoom;
  await load.reset(SAMPLE_EVERY.paced);
  await load.pace((1000 * senders) / messagesPerSecond);
  try {
    const paced = await measureWindows(load, server, {
      ...timing,
      warmupMs: timing.warmupMs / 2,
      windows: timing.pacedWindows,
    }, signal);
    result.paced = { ...withLatency(paced), offeredRate: pacedRate };
  } finally {
    await load.stopPacing();
  }
  return result;
}

/**
 * One idle run: connects the scenario's clients to a server that was just
 * started, lets it settle, and reads how much its memory grew.
 */
export async function measureIdle(
  scenario: IdleScenario,
  server: ServerProcess,
  options: { workers: number; timing: Timing; signal: AbortSignal },
): Promise<RunResult> {
  const rssBeforeBytes = readRssBytes(server.pid);
  const clients = roomClients(scenario, server);
  const start = performance.now();
  const load = await WsLoad.open({
    url: `ws://127.0.0.1:${server.port}`,
    clients,
    workers: options.workers,
    timeoutMs: 60_000,
  });
  try {
    const connectMs = performance.now() - start;
    await delay(options.timing.warmupMs, options.signal);
    const rssBytes = readRssBytes(server.pid);
    return {
      server: server.name,
      runtime: server.runtime,
      rssBytes,
      idle: {
        connections: clients.length,
        rssBeforeBytes,
        bytesPerConnection: (rssBytes - rssBeforeBytes) / clients.length,
        connectMs,
      },
    };
  } finally {
    await stopServerFirst(server, load);
  }
}

function withLatency(measurement: Measurement): Figures {
  return { ...measurement, latency: summarizeLatency(measurement.latencies) };
}
