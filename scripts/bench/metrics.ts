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
  ours: number;
  baseline: number;
  /** `ours / baseline`. */
  ratio: number;
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

/** The goals of the issues, by scenario and figure. */
const TARGETS: Record<string, (metric: Metric) => Metric["target"]> = {
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
 * The figures of a scenario from its runs, ours against the baseline, for
 * each runtime that has runs of both.
 */
export function scenarioMetrics(
  scenario: Scenario,
  runs: RunResult[],
): Metric[] {
  return RUNTIMES.flatMap((runtime) =>
    runtimeMetrics(
      scenario,
      runtime,
      runs.filter((run) => run.runtime === runtime),
    )
  );
}

function runtimeMetrics(
  scenario: Scenario,
  runtime: Runtime,
  runs: RunResult[],
): Metric[] {
  const servers = {
    ours: runs.filter((run) => run.server === "ours"),
    baseline: runs.filter((run) => run.server === "baseline"),
  };
  if (servers.ours.length === 0 || servers.baseline.length === 0) return [];
  const metrics: Metric[] = [];

  /** Adds a figure; a rate names its phase, to tell if it was client-limited. */
  function add(
    name: string,
    read: Reading,
    options: { higherIsBetter?: boolean; headline?: boolean; rateOf?: Phase } =
      {},
  ): void {
    const ours = read(servers.ours);
    const baseline = read(servers.baseline);
    const metric: Metric = {
      name,
      runtime,
      ours,
      baseline,
      ratio: ours / baseline,
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
    const target = TARGETS[`${scenario.name}/${name}`]?.(metric);
    if (target) metric.target = target;
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
      add("server RSS (MiB)", rssMib);
      if (runs.some((run) => run.paced)) {
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
