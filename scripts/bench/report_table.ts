import type { BenchReport } from "./bench.ts";
import type { Ceiling } from "./ceiling.ts";
import type { Metric } from "./metrics.ts";

/** A number as a person reads it: `175,300`, `48.2`, `3.14`. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return "-";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function ceilingLine(
  what: string,
  unit: string,
  ceilings: Ceiling[],
  used: number,
): string {
  const tried = ceilings.map((c) =>
    `${formatNumber(c.rate)} ${unit} with ${c.workers} thread${
      c.workers > 1 ? "s" : ""
    } ` +
    `(demand: load generator ${percent(c.client.demand)}, sink ${
      percent(c.sink.demand)
    })`
  );
  return `  ${what}: ${tried.join("; ")}; using ${used}`;
}

/** Lays out rows of cells in columns; numbers are aligned right. */
function columns(rows: string[][], right: Set<number>): string[] {
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.map((row) => row[i]?.length ?? 0))
  );
  return rows.map((row) =>
    row.map((cell, i) =>
      right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
    )
      .join("  ").trimEnd()
  );
}

/**
 * A scenario's metrics figure by figure, then server by server, each one's
 * runtimes together; after the first runtime of a figure, `versus` is our
 * figure on that runtime over ours on the first (`bun/deno`).
 */
function byFigure(metrics: Metric[]): { metric: Metric; versus?: number }[] {
  const names = [...new Set(metrics.map((metric) => metric.name))];
  const ordered = names.flatMap((name) =>
    metrics.filter((metric) => metric.name === name)
  );
  const figures = Map.groupBy(
    ordered,
    (metric) => `${metric.name}\n${metric.server}`,
  );
  return [...figures.values()].flatMap(([first, ...others]) => [
    { metric: first! },
    ...others.map((metric) => ({ metric, versus: metric.ours / first!.ours })),
  ]);
}

/** The report as a plain-text table, for the terminal. */
export function renderTable(report: BenchReport): string {
  const { environment, options, ceilings } = report;
  const { timing } = options;
  const lines = [
    "Chat server benchmark: ours against the baseline (the smallest server speaking the protocol on the same runtime)",
    `${report.startedAt}, Deno ${environment.deno}${
      environment.bun ? `, Bun ${environment.bun}` : ""
    }, ${environment.cpus} CPUs, ` +
    `load average ${
      environment.loadAverage[0]?.toFixed(2)
    } at the start, took ${formatNumber(report.durationMs / 1000)} s`,
    `Our server: main.ts ${report.ourFlags.join(" ")}` +
    (options.runtimes.includes("bun")
      ? " (on Bun: the bundle, dist/chat-server.js)"
      : ""),
    "",
    "Load generator ceiling, against a sink server that only answers:",
    ceilingLine(
      "WebSocket",
      "frames/s",
      ceilings.websocket,
      ceilings.websocketWorkers,
    ),
    ceilingLine("HTTP", "requests/s", ceilings.http, ceilings.httpWorkers),
    "",
  ];

  // With several runtimes, our figure on each against ours on the first.
  const [base, ...others] = options.runtimes;
  const versus = others.length > 0 ? `ours ${others.join("/")}/${base}` : "";
  // With several setups of ours, each one's figure against the in-memory one.
  const setups = (options.setups ?? ["memory"]).length > 1;
  const rows = [[
    "scenario",
    "figure",
    "runtime",
    ...(setups ? ["server"] : []),
    "ours",
    "baseline",
    "ratio",
    ...(setups ? ["vs-memory"] : []),
    ...(versus ? [versus] : []),
    "target",
    "note",
  ]];
  const notes = [];
  for (const { scenario, metrics, runs, error } of report.scenarios) {
    if (error) notes.push(`${scenario.name}: stopped early: ${error}`);
    const errorFrames = runs.reduce(
      (sum, run) => sum + (run.load?.errors ?? 0) + (run.paced?.errors ?? 0),
      0,
    );
    if (errorFrames > 0) {
      const first = runs.find((run) => run.load?.firstError)?.load?.firstError;
      notes.push(
        `${scenario.name}: ${errorFrames} error answers, the first: ${first}`,
      );
    }
    if (metrics.length === 0) {
      rows.push([scenario.name, "(no figures)"]);
    }
    let lastFigure = "";
    byFigure(metrics).forEach(({ metric, versus: ratioVersus }, i) => {
      const newFigure = metric.name !== lastFigure;
      lastFigure = metric.name;
      rows.push([
        i === 0 ? scenario.name : "",
        newFigure ? metric.name : "",
        metric.runtime,
        ...(setups ? [metric.server] : []),
        formatNumber(metric.ours),
        formatNumber(metric.baseline),
        Number.isFinite(metric.ratio) ? `${metric.ratio.toFixed(2)}x` : "-",
        ...(setups
          ? [
            metric.versusMemory === undefined
              ? ""
              : `${metric.versusMemory.toFixed(2)}x`,
          ]
          : []),
        ...(versus
          ? [ratioVersus === undefined ? "" : `${ratioVersus.toFixed(2)}x`]
          : []),
        metric.target
          ? `${metric.target.goal} ${metric.target.met ? "met" : "MISSED"}`
          : "",
        metric.clientLimited
          ? `client-limited: ${metric.clientLimited.join(", ")}`
          : "",
      ]);
    });
  }
  const first = setups ? 4 : 3;
  const numbers = Array.from(
    { length: 3 + (setups ? 1 : 0) + (versus ? 1 : 0) },
    (_, i) => first + i,
  );
  const table = columns(rows, new Set(numbers));
  lines.push(table[0]!, table[0]!.replace(/[^ ]/g, "-"), ...table.slice(1));

  lines.push(
    "",
    `ratio = ours / the baseline on the same runtime. The servers (${
      options.runtimes.join(", ")
    }: ours and the baseline)`,
    `ran side by side, each measured ${
      options.runsPerServer === 1 ? "once" : `${options.runsPerServer} times`
    } per scenario, in turns (in that order, then in reverse, ...);`,
    "idle started a fresh server for each run.",
    ...(versus
      ? [
        `${versus}: our figure on ${
          others.join(", ")
        } / our figure on ${base}, the same load.`,
      ]
      : []),
    ...(setups
      ? [
        `Setups of ours: ${
          (options.setups ?? []).join(", ")
        } (sqlite: a new file; redis: a redis-server of its own, append-only,`,
        "fsync every second; redis-x2: two instances on one Redis, each room's members split between them).",
        "vs-memory = the setup's figure / the in-memory one's. Redis CPU: all of redis-server's threads, from /proc/<pid>/stat.",
      ]
      : []),
    `Rates: median of ${timing.windows} windows of ${timing.windowMs} ms per run, after ${timing.warmupMs} ms of warm-up.`,
    "Latency: from send to receipt, the samples of every run pooled. In a closed loop it includes the wait",
    "behind the rest of the round; paced, the load is half of our first measured rate, the same for every server.",
    "demand: the share of the time a thread was running or waiting for a CPU; near 100% it is the bottleneck.",
    "client-limited: the load generator's busiest thread had a demand >= 90% and above the server's in at",
    "least half the runs, so that rate is partly the load generator's. Server CPU per frame compares the",
    "servers even then, and even when other programs share the CPU.",
    ...notes,
  );
  return lines.join("\n");
}
