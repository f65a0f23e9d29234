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
  Scenario,
} from "./scenarios.ts";
import type { ServerProcess } from "./server_process.ts";
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
  /** The server's resident memory at the end of the load, in bytes. */
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

/** Everything a run needs besides its scenario. */
export interface RunOptions {
  server: ServerProcess;
  /** Load generator threads. */
  workers: number;
  timing: Timing;
  /** Frames per second to offer in the paced phase, given the run's own closed-loop rate; none skips it. */
  pacedRate?: ((closedLoopRate: number) => number | undefined) | undefined;
  /** Aborts the run: the scenario's time is up. */
  signal: AbortSignal;
}

/** Runs a scenario once against a server that was just started. */
export function runOnce(
  scenario: Scenario,
  options: RunOptions,
): Promise<RunResult> {
  switch (scenario.kind) {
    case "rounds":
      return runRounds(scenario, options);
    case "idle":
      return runIdle(scenario, options);
    case "rest":
      return runRest(scenario, options);
  }
}

/** The clients of a scenario, room by room: the first members send. */
function roomClients(scenario: RoundsScenario | IdleScenario): ClientSpec[] {
  const senders = scenario.kind === "rounds" ? scenario.sendersPerRoom : 0;
  return Array.from(
    { length: scenario.rooms * scenario.membersPerRoom },
    (_, i) => ({
      name: `client-${i}`,
      room: `room-${Math.floor(i / scenario.membersPerRoom)}`,
      sends: i % scenario.membersPerRoom < senders,
    }),
  );
}

function withLatency(measurement: Measurement): Figures {
  return { ...measurement, latency: summarizeLatency(measurement.latencies) };
}

async function runRounds(
  scenario: RoundsScenario,
  options: RunOptions,
): Promise<RunResult> {
  const { server, timing, signal } = options;
  const load = await WsLoad.open({
    url: `ws://127.0.0.1:${server.port}`,
    clients: roomClients(scenario),
    workers: options.workers,
  });
  try {
    const closedLoop = await whileDriving(
      async (signal) => {
        while (!signal.aborted) await load.round(scenario.messages);
      },
      (signal) => measureWindows(load, server.pid, timing, signal),
      signal,
    );
    const result: RunResult = {
      server: server.name,
      rssBytes: readRssBytes(server.pid),
      load: withLatency(closedLoop),
    };
    const pacedRate = scenario.paced &&
      options.pacedRate?.(median(closedLoop.rates));
    if (pacedRate) {
      const senders = scenario.rooms * scenario.sendersPerRoom;
      const messagesPerSecond = pacedRate / scenario.membersPerRoom;
      await load.reset(8);
      await load.pace((1000 * senders) / messagesPerSecond);
      const paced = await measureWindows(load, server.pid, {
        ...timing,
        warmupMs: timing.warmupMs / 2,
        windows: timing.pacedWindows,
      }, signal);
      await load.stopPacing();
      result.paced = { ...withLatency(paced), offeredRate: pacedRate };
    }
    return result;
  } finally {
    await load.close();
  }
}

async function runIdle(
  scenario: IdleScenario,
  options: RunOptions,
): Promise<RunResult> {
  const { server, timing, signal } = options;
  const rssBeforeBytes = readRssBytes(server.pid);
  const clients = roomClients(scenario);
  const start = performance.now();
  const load = await WsLoad.open({
    url: `ws://127.0.0.1:${server.port}`,
    clients,
    workers: options.workers,
    timeoutMs: 60_000,
  });
  try {
    const connectMs = performance.now() - start;
    await delay(timing.warmupMs, signal);
    const rssBytes = readRssBytes(server.pid);
    return {
      server: server.name,
      rssBytes,
      idle: {
        connections: clients.length,
        rssBeforeBytes,
        bytesPerConnection: (rssBytes - rssBeforeBytes) / clients.length,
        connectMs,
      },
    };
  } finally {
    await load.close();
  }
}

async function runRest(
  scenario: RestScenario,
  options: RunOptions,
): Promise<RunResult> {
  const { server, timing, signal } = options;
  const load = await HttpLoad.start({
    url: `http://127.0.0.1:${server.port}`,
    concurrency: scenario.concurrency,
    rooms: scenario.rooms,
    workers: options.workers,
  });
  try {
    const requests = await measureWindows(load, server.pid, timing, signal);
    return {
      server: server.name,
      rssBytes: readRssBytes(server.pid),
      load: withLatency(requests),
    };
  } finally {
    await load.close();
  }
}
