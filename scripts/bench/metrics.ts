/**
 * Turns the runs of a scenario into the figures the report shows: for each,
 * our server's value, the baseline's, and the ratio between them.
 *
 * @module
 */
import { SATURATED } from "./ceiling.ts";
import { median } from "./_stats.ts";
import { type Figures, type RunResult } from "./measure_run.ts";
import { summarizeLatency } from "./measure.ts";
import type { Scenario } from "./scenarios.ts";

/** One figure of one scenario, for both servers. */
export interface Metric {
  /** What it is, with its unit: `delivered frames/s`. */
  name: string;
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

/** The goals of the issue, per scenario and figure. */
const TARGETS: Record<string, (metric: Metric) => Metric["target"]> = {
  "room16/delivered frames/s": (m) => ({
    goal: ">= 0.85x",
    met: m.ratio >= 0.85,
  }),
  "rooms/delivered frames/s": (m) => ({
    goal: ">= 0.85x",
    met: m.ratio >= 0.85,
  }),
  "rooms/paced latency p99 (ms)": (m) => ({
    goal: "< 10 ms",
    met: m.ours < 10,
  }),
  "idle/memory per connection (KiB)": (m) => ({
    goal: "<= 1.2x",
    met: m.ratio <= 1.2,
  }),
};

const MIB = 1024 * 1024;

/** The figures of a scenario from its runs, ours against the baseline. */
export function scenarioMetrics(
  scenario: Scenario,
  runs: RunResult[],
): Metric[] {
  const ours = runs.filter((run) => run.server === "ours");
  const baseline = runs.filter((run) => run.server === "baseline");
  if (ours.length === 0 || baseline.length === 0) return [];
  const metrics: Metric[] = [];

  function add(
    name: string,
    value: (runs: RunResult[]) => number,
    options: {
      higherIsBetter?: boolean;
      headline?: boolean;
      load?: (run: RunResult) => Figures | undefined;
    } = {},
  ): void {
    const metric: Metric = {
      name,
      ours: value(ours),
      baseline: value(baseline),
      ratio: value(ours) / value(baseline),
      higherIsBetter: options.higherIsBetter ?? false,
    };
    if (options.headline) metric.headline = true;
    if (options.load) {
      const limited = [ours, baseline]
        .filter((runs) => isClientLimited(runs.map(options.load!)))
        .map((runs) => runs[0]!.server);
      if (limited.length > 0) metric.clientLimited = limited;
    }
    const target = TARGETS[`${scenario.name}/${name}`]?.(metric);
    if (target) metric.target = target;
    metrics.push(metric);
  }

  const load = (run: RunResult) => run.load;
  const paced = (run: RunResult) => run.paced;
  const rates = (part: typeof load) => (runs: RunResult[]) =>
    median(runs.flatMap((run) => part(run)?.rates ?? []));
  const latency =
    (part: typeof load, p: "p50" | "p99") => (runs: RunResult[]) =>
      summarizeLatency(runs.flatMap((run) => part(run)?.latencies ?? []))[p];
  const cpu = (runs: RunResult[]) =>
    median(runs.map((run) => run.load!.serverCpuUs));
  const rss = (runs: RunResult[]) =>
    median(runs.map((run) => run.rssBytes)) / MIB;

  switch (scenario.kind) {
    case "rounds":
      add("delivered frames/s", rates(load), {
        higherIsBetter: true,
        headline: true,
        load,
      });
      add("latency p50 (ms)", latency(load, "p50"));
      add("latency p99 (ms)", latency(load, "p99"));
      add("server CPU per frame (µs)", cpu);
      add("server RSS (MiB)", rss);
      if (ours.some((run) => run.paced) && baseline.some((run) => run.paced)) {
        add("paced frames/s", rates(paced), {
          higherIsBetter: true,
          load: paced,
        });
        add("paced latency p50 (ms)", latency(paced, "p50"));
        add("paced latency p99 (ms)", latency(paced, "p99"));
      }
      break;
    case "idle":
      add(
        "memory per connection (KiB)",
        (runs) =>
          median(runs.map((run) => run.idle!.bytesPerConnection)) / 1024,
        {
          headline: true,
        },
      );
      add("server RSS (MiB)", rss);
      add(
        "connect and join all (ms)",
        (runs) => median(runs.map((run) => run.idle!.connectMs)),
      );
      break;
    case "rest":
      add("requests/s", rates(load), {
        higherIsBetter: true,
        headline: true,
        load,
      });
      add("latency p50 (ms)", latency(load, "p50"));
      add("latency p99 (ms)", latency(load, "p99"));
      add("server CPU per request (µs)", cpu);
      add("server RSS (MiB)", rss);
      break;
  }
  return metrics;
}

/**
 * Whether a server's figure was set by the load generator: in at least half
 * of its runs, the busiest load generator thread was saturated, and more so
 * than the server's.
 */
function isClientLimited(figures: (Figures | undefined)[]): boolean {
  const verdicts = figures.flatMap((figure) =>
    figure
      ? [
        figure.client.demand >= SATURATED &&
        figure.client.demand >= figure.server.demand,
      ]
      : []
  );
  return verdicts.length > 0 &&
    verdicts.filter(Boolean).length * 2 >= verdicts.length;
}
