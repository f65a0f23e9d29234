/**
 * Turns the runs of a scenario into the figures the report shows: for each
 * runtime and figure, our server's value, that runtime's baseline's, and the
 * ratio between them.
 *
 * @module
 */
import { SATURATED } from "./ceiling.ts";
import { median } from "./_stats.ts";
import { summarizeLatency } from "./measure.ts";
import type { RunResult } from "./measure_run.ts";
import type { Scenario } from "./scenarios.ts";
import { type Runtime, RUNTIMES } from "./servers.ts";

/** One figure of one scenario on one runtime, for both servers. */
export interface Metric {
  /** What it is, with its unit: `delivered frames/s`. */
  name: string;
  /** What both servers ran on. */
  runtime: Runtime;
  /** Which of our setups: `ours`, `ours (redis)`... */
  server: string;
  ours: number;
  /** The baseline's figure; `NaN` for one it has not (Redis's CPU). */
  baseline: number;
  /** `ours / baseline`. */
  ratio: number;
  /**
   * For a setup other than the in-memory one: its figure over the
   * in-memory one's, on the same runtime.
   */
  versusMemory?: number;
  /** Whether a higher value is the better one. */
  higherIsBetter: boolean;
  /** The scenario's main figure, drawn in the chart. */
  headline?: boolean;
  /** The goal for this figure, and whether this run met it. */
  target?: { goal: string; met: boolean };
  /** Servers whose figure was held back by the load generator, not by them. */
  clientLimited?: string[];
}

/** A ratio at least `goal`. */
function atLeast(metric: Metric, goal: number): Metric["target"] {
  return { goal: `>= ${goal}x`, met: metric.ratio >= goal };
}

/** A ratio at most `goal`. */
function atMost(metric: Metric, goal: number): Metric["target"] {
  return { goal: `<= ${goal}x`, met: metric.ratio <= goal };
}

/** Delivered frames/s: Bun's own fan-out in native code is far ahead. */
function frameRate(metric: Metric): Metric["target"] {
  return atLeast(metric, metric.runtime === "bun" ? 0.6 : 0.85);
}

/** Server CPU per delivered frame. */
function frameCpu(metric: Metric): Metric["target"] {
  return atMost(metric, metric.runtime === "bun" ? 2.5 : 1.1);
}

/**
 * The goals of the issues, by scenario and figure (and server, for a setup
 * other than the in-memory one). `others` has the scenario's figures of
 * every server on the same runtime.
 */
const TARGETS: Record<
  string,
  (metric: Metric, others: Metric[]) => Metric["target"]
> = {
  "rooms/delivered frames/s/ours (redis)": (m) =>
    m.versusMemory === undefined
      ? undefined
      : { goal: ">= 0.6x memory", met: m.versusMemory >= 0.6 },
  "rooms/paced latency p99 (ms)/ours (redis-x2)": (m, others) => {
    const single = others.find((other) =>
      other.server === "ours (redis)" && other.name === m.name
    );
    return single
      ? { goal: "< 2x redis", met: m.ours < 2 * single.ours }
      : undefined;
  },
  "room16/delivered frames/s": frameRate,
  "room16/server CPU per frame (µs)": frameCpu,
  "rooms/delivered frames/s": frameRate,
  "rooms/server CPU per frame (µs)": frameCpu,
  "rooms/paced latency p99 (ms)": (m) => ({
    goal: "< 10 ms",
    met: m.ours < 10,
  }),
  "idle/memory per connection (KiB)": (m) =>
    atMost(m, m.runtime === "deno" ? 1.15 : 1.2),
};

/** The part of a run a figure comes from: the main load or the paced one. */
type Phase = "load" | "paced";

/** A figure read from one server's runs. */
type Reading = (runs: RunResult[]) => number;

function rate(phase: Phase): Reading {
  return (runs) => median(runs.flatMap((run) => run[phase]?.rates ?? []));
}

function latency(phase: Phase, percentile: "p50" | "p99"): Reading {
  return (runs) =>
    summarizeLatency(
      runs.flatMap((run) => run[phase]?.latencies ?? []),
    )[percentile];
}

function serverCpu(runs: RunResult[]): number {
  return median(runs.map((run) => run.load!.serverCpuUs));
}

function redisCpu(runs: RunResult[]): number {
  return median(runs.map((run) => run.load!.redisCpuUs ?? NaN));
}

function rssMib(runs: RunResult[]): number {
  return median(runs.map((run) => run.rssBytes)) / (1024 * 1024);
}

function kibPerConnection(runs: RunResult[]): number {
  return median(runs.map((run) => run.idle!.bytesPerConnection)) / 1024;
}

function connectMs(runs: RunResult[]): number {
  return median(runs.map((run) => run.idle!.connectMs));
}

/**
 * Whether the load generator held a server's rate back: in at least half
 * of the runs, its busiest thread was saturated, and more so than the
 * server's.
 */
function isClientLimited(runs: RunResult[], phase: Phase): boolean {
  const verdicts = runs.flatMap((run) => {
    const figures = run[phase];
    if (!figures) return [];
    const { client, server } = figures;
    return [client.demand >= SATURATED && client.demand >= server.demand];
  });
  return verdicts.length > 0 &&
    verdicts.filter(Boolean).length * 2 >= verdicts.length;
}

/**
 * The figures of a scenario from its runs, each of our setups against the
 * baseline, for each runtime that has runs of both.
 */
export function scenarioMetrics(
  scenario: Scenario,
  runs: RunResult[],
): Metric[] {
  return RUNTIMES.flatMap((runtime) => {
    const onRuntime = runs.filter((run) => run.runtime === runtime);
    const baseline = onRuntime.filter((run) => run.server === "baseline");
    if (baseline.length === 0) return [];
    const servers = [...new Set(onRuntime.map((run) => run.server))]
      .filter((server) => server !== "baseline");
    const metrics = servers.flatMap((server) =>
      serverMetrics(
        scenario,
        runtime,
        server,
        onRuntime.filter((run) => run.server === server),
        baseline,
      )
    );
    for (const metric of metrics) {
      const memory = metrics.find((other) =>
        other.server === "ours" && other.name === metric.name
      );
      if (memory && metric.server !== "ours") {
        metric.versusMemory = metric.ours / memory.ours;
      }
    }
    for (const metric of metrics) {
      const key = metric.server === "ours"
        ? `${scenario.name}/${metric.name}`
        : `${scenario.name}/${metric.name}/${metric.server}`;
      const target = TARGETS[key]?.(metric, metrics);
      if (target) metric.target = target;
    }
    return metrics;
  });
}

function serverMetrics(
  scenario: Scenario,
  runtime: Runtime,
  server: string,
  ours: RunResult[],
  baseline: RunResult[],
): Metric[] {
  if (ours.length === 0) return [];
  const servers = { [server]: ours, baseline };
  const metrics: Metric[] = [];

  /** Adds a figure; a rate names its phase, to tell if it was client-limited. */
  function add(
    name: string,
    read: Reading,
    options: {
      higherIsBetter?: boolean;
      headline?: boolean;
      rateOf?: Phase;
      ours?: boolean;
    } = {},
  ): void {
    const value = read(ours);
    const baselineValue = options.ours ? NaN : read(baseline);
    const metric: Metric = {
      name,
      runtime,
      server,
      ours: value,
      baseline: baselineValue,
      ratio: value / baselineValue,
      higherIsBetter: options.higherIsBetter ?? false,
    };
    if (options.headline) metric.headline = true;
    const phase = options.rateOf;
    if (phase) {
      const limited = Object.entries(servers)
        .filter(([, runs]) => isClientLimited(runs, phase))
        .map(([name]) => name);
      if (limited.length > 0) metric.clientLimited = limited;
    }
    metrics.push(metric);
  }

  switch (scenario.kind) {
    case "rounds":
      add("delivered frames/s", rate("load"), {
        higherIsBetter: true,
        headline: true,
        rateOf: "load",
      });
      add("latency p50 (ms)", latency("load", "p50"));
      add("latency p99 (ms)", latency("load", "p99"));
      add("server CPU per frame (µs)", serverCpu);
      if (ours.some((run) => run.load?.redisCpuUs !== undefined)) {
        add("Redis CPU per frame (µs)", redisCpu, { ours: true });
      }
      add("server RSS (MiB)", rssMib);
      if (ours.some((run) => run.paced)) {
        add("paced frames/s", rate("paced"), {
          higherIsBetter: true,
          rateOf: "paced",
        });
        add("paced latency p50 (ms)", latency("paced", "p50"));
        add("paced latency p99 (ms)", latency("paced", "p99"));
      }
      break;
    case "idle":
      add("memory per connection (KiB)", kibPerConnection, { headline: true });
      add("server RSS (MiB)", rssMib);
      add("connect and join all (ms)", connectMs);
      break;
    case "rest":
      add("requests/s", rate("load"), {
        higherIsBetter: true,
        headline: true,
        rateOf: "load",
      });
      add("latency p50 (ms)", latency("load", "p50"));
      add("latency p99 (ms)", latency("load", "p99"));
      add("server CPU per request (µs)", serverCpu);
      add("server RSS (MiB)", rssMib);
      break;
  }
  return metrics;
}
