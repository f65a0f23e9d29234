/**
 * `deno task bench [scenario...]`: measures our chat server against the
 * smallest server speaking the same protocol on the same runtime (Deno, Bun
 * or both), prints a table, and writes it with a JSON report and an SVG
 * chart to `bench-results/`.
 *
 * ```sh
 * deno task bench                  # every scenario, under 3 minutes
 * deno task bench room16 --quick   # one scenario, one run per server
 * deno task bench --runtime all    # Deno and Bun: ours and baseline on each
 * deno task bench rooms --server-args="--join-history 10"
 * deno task bench rooms --setups memory,sqlite,redis,redis-x2
 * deno task bench room16 --profile # and CPU profiles of both servers
 * ```
 *
 * It runs with `--allow-all` because Deno lets only that read `/proc`, where
 * the servers' memory and CPU time are.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type BenchOptions, type BenchReport, runBench } from "./bench.ts";
import { renderTable } from "./report_table.ts";
import { findScenario, limitClients, SCENARIOS } from "./scenarios.ts";
import { type Runtime, RUNTIMES, type Setup, SETUPS } from "./servers.ts";
import { renderSvgChart } from "./svg_chart.ts";

const HELP = `Usage: deno task bench [options] [scenario...]

Scenarios (all by default):
${SCENARIOS.map((s) => `  ${s.name.padEnd(8)} ${s.summary}`).join("\n")}

Options:
  --runtime <r>       deno (default), bun, or all: our server and that
                      runtime's baseline on each, measured in turns
  --runs <n>          runs of each server per scenario, alternated (default 2)
  --windows <n>       measured windows per run (default 5)
  --window-ms <ms>    length of a window (default 1000)
  --warmup-ms <ms>    load before measuring (default 1000)
  --quick             one run per server and 3 windows, for a quick look
  --max-clients <n>   at most n clients per scenario (fewer rooms, members)
  --workers <n>       load generator threads (default: from its ceiling)
  --setups <list>     our server's setups, each measured: memory (default),
                      sqlite, redis (a redis-server the bench starts),
                      redis-x2 (two instances on it, each room's clients
                      split between them); e.g. memory,sqlite,redis,redis-x2
  --server-args <a>   extra flags for our server, e.g. "--db bench.db"
  --profile           write CPU profiles of the servers to <out>/profile
  --out <dir>         where the results go (default bench-results)
  --json              print the JSON report to stdout, write no files
  -h, --help          show this help`;

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Each scenario's hard time limit, per runtime measured, for our server and
 * the baseline (more setups of ours get more time).
 */
const SCENARIO_LIMIT_MS = 60_000;

/** The runtimes `--runtime` names: one of them, or `all`. */
function parseRuntimes(text: string): Runtime[] {
  if (text === "all") return [...RUNTIMES];
  const runtime = RUNTIMES.find((runtime) => runtime === text);
  if (!runtime) {
    throw new RangeError(
      `--runtime must be ${RUNTIMES.join(", ")} or all, not "${text}"`,
    );
  }
  return [runtime];
}

/** The setups `--setups` names, comma-separated. */
function parseSetups(text: string): Setup[] {
  return text.split(",").map((name) => {
    const setup = SETUPS.find((setup) => setup === name.trim());
    if (!setup) {
      throw new RangeError(
        `--setups takes ${SETUPS.join(", ")}, not "${name}"`,
      );
    }
    return setup;
  });
}

/** What the command line asked for. */
interface Request {
  help: boolean;
  bench: BenchOptions;
  out: string;
  json: boolean;
}

function positive(
  text: string | undefined,
  fallback: number,
  flag: string,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `${flag} must be a whole number above 0, not "${text}"`,
    );
  }
  return value;
}

function parseRequest(args: string[]): Request {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      runtime: { type: "string", default: "deno" },
      setups: { type: "string", default: "memory" },
      runs: { type: "string" },
      windows: { type: "string" },
      "window-ms": { type: "string" },
      "warmup-ms": { type: "string" },
      quick: { type: "boolean", default: false },
      "max-clients": { type: "string" },
      workers: { type: "string" },
      "server-args": { type: "string", default: "" },
      profile: { type: "boolean", default: false },
      out: { type: "string", default: "bench-results" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const maxClients = positive(values["max-clients"], Infinity, "--max-clients");
  const windows = positive(values.windows, values.quick ? 3 : 5, "--windows");
  const workers = values.workers;
  const runtimes = parseRuntimes(values.runtime);
  const setups = parseSetups(values.setups);
  return {
    help: values.help,
    out: values.out,
    json: values.json,
    bench: {
      scenarios:
        (positionals.length > 0 ? positionals.map(findScenario) : SCENARIOS)
          .map((scenario) => limitClients(scenario, maxClients)),
      runtimes,
      setups,
      timing: {
        warmupMs: positive(values["warmup-ms"], 1000, "--warmup-ms"),
        windowMs: positive(values["window-ms"], 1000, "--window-ms"),
        windows,
        pacedWindows: Math.min(windows, 3),
      },
      runsPerServer: positive(values.runs, values.quick ? 1 : 2, "--runs"),
      workers: workers === undefined
        ? undefined
        : positive(workers, 1, "--workers"),
      serverArgs: values["server-args"].split(/\s+/).filter(Boolean),
      profileDir: values.profile ? `${values.out}/profile` : undefined,
      // Each runtime runs the baseline and our setups.
      scenarioLimitMs: SCENARIO_LIMIT_MS * runtimes.length *
        (setups.length + 1) / 2,
    },
  };
}

/** The report as JSON; the raw latency samples are summarized in `latency`. */
function toJson(report: BenchReport): string {
  return JSON.stringify(
    report,
    (key, value) => key === "latencies" ? undefined : value,
    2,
  );
}

async function writeResults(
  report: BenchReport,
  table: string,
  out: string,
): Promise<string[]> {
  const stem = `${out}/bench-${report.startedAt.replace(/[:.]/g, "-")}`;
  await Deno.mkdir(out, { recursive: true });
  const files: [string, string][] = [
    [`${stem}.txt`, table + "\n"],
    [`${stem}.json`, toJson(report) + "\n"],
    [`${stem}.svg`, renderSvgChart(report)],
  ];
  for (const [path, text] of files) await Deno.writeTextFile(path, text);
  return files.map(([path]) => path);
}

async function main(): Promise<void> {
  const request = parseRequest(Deno.args);
  if (request.help) return console.log(HELP);

  // Ctrl-C or a kill ends the benchmark early, after it stopped its servers.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort(new Error("interrupted"));
  for (const signal of SIGNALS) Deno.addSignalListener(signal, onSignal);
  let report;
  try {
    report = await runBench({
      ...request.bench,
      log: (line) => {
        const seconds = (performance.now() / 1000).toFixed(1).padStart(5);
        console.error(`bench ${seconds} s: ${line}`);
      },
      signal: interrupt.signal,
    });
  } finally {
    for (const signal of SIGNALS) Deno.removeSignalListener(signal, onSignal);
  }
  if (interrupt.signal.aborted) Deno.exitCode = 130;

  if (request.json) return console.log(toJson(report));
  const table = renderTable(report);
  console.log(table);
  const files = await writeResults(report, table, request.out);
  console.log(`\nWrote ${files.join(", ")}`);
  if (request.bench.profileDir) {
    console.log(
      `CPU profiles (and .md summaries): ${request.bench.profileDir}/`,
    );
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    // Bad flags: parseArgs throws TypeErrors, our own checks RangeErrors.
    if (!(error instanceof RangeError || error instanceof TypeError)) {
      throw error;
    }
    console.error(`error: ${error.message} (see --help)`);
    Deno.exitCode = 2;
  }
}
