import { type Ceilings, measureCeilings } from "./ceiling.ts";
import { median } from "./_stats.ts";
import { type Metric, scenarioMetrics } from "./metrics.ts";
import {
  type LoadedServer,
  loadServer,
  measureIdle,
  measureRun,
  type RunResult,
  type Timing,
} from "./measure_run.ts";
import type { RestScenario, RoundsScenario, Scenario } from "./scenarios.ts";
import { startServerProcess } from "./server_process.ts";
import {
  type Runtime,
  type ServerCommand,
  serverPair,
  type Setup,
} from "./servers.ts";
import { findBun } from "../bun_build.ts";

/** Options of {@linkcode runBench}. */
export interface BenchOptions {
  /** The scenarios to run, in order. */
  scenarios: readonly Scenario[];
  /** What to run our server and the baseline on: each runtime runs both. */
  runtimes: readonly Runtime[];
  /**
   * Our server's setups, each measured as a server of its own.
   * @default {["memory"]}
   */
  setups?: readonly Setup[] | undefined;
  timing: Timing;
  /** Runs of each server per scenario, alternating which one goes first. */
  runsPerServer: number;
  /** Extra flags for our server, e.g. `["--db", "bench.db"]`. */
  serverArgs?: string[] | undefined;
  /** Write each server's CPU profile into `<profileDir>/<server>/`. */
  profileDir?: string | undefined;
  /** Load generator threads; by default chosen from its measured ceiling. */
  workers?: number | undefined;
  /** Hard time limit of each scenario, all its runs included, in ms. */
  scenarioLimitMs: number;
  /** Where progress goes, one line at a time. */
  log?: (line: string) => void;
  /** Stops the benchmark early; the report has what was measured so far. */
  signal?: AbortSignal;
}

/** What a scenario's runs found. */
export interface ScenarioReport {
  scenario: Scenario;
  metrics: Metric[];
  runs: RunResult[];
  /** Why the scenario stopped early, if it did. */
  error?: string;
}

/** Everything one benchmark run found. */
export interface BenchReport {
  startedAt: string;
  durationMs: number;
  environment: {
    deno: string;
    v8: string;
    /** Bun's version, when the servers also ran on Bun. */
    bun?: string;
    cpus: number;
    /** The machine's load average (1, 5, 15 minutes) when the run started. */
    loadAverage: number[];
  };
  options: Omit<BenchOptions, "log" | "signal" | "scenarios">;
  /** The flags our server ran with, the bench's settings included. */
  ourFlags: string[];
  ceilings: Ceilings;
  scenarios: ScenarioReport[];
}

/**
 * Measures the load generator's own ceiling, then runs every scenario
 * against our server and the baseline on each runtime, measured in turns
 * (Deno's ours, Deno's baseline, Bun's ours, Bun's baseline, then the other
 * way round, ...), so that a machine that gets busier or quieter favours
 * none of them.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const started = performance.now();
  const { log: _, signal: __, scenarios: ___, ...settings } = options;
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    durationMs: 0,
    environment: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      cpus: navigator.hardwareConcurrency,
      loadAverage: Deno.loadavg(),
    },
    options: settings,
    ourFlags: [],
    ceilings: { websocket: [], http: [], websocketWorkers: 1, httpWorkers: 1 },
    scenarios: [],
  };
  const log = options.log ?? (() => {});
  const stopped = options.signal ?? new AbortController().signal;

  log("measuring the load generator's ceiling against a sink server");
  report.ceilings = await withTimeLimit(
    options.scenarioLimitMs,
    stopped,
    (signal) =>
      measureCeilings({
        timing: { ...options.timing, warmupMs: 500, windows: 2 },
        workers: options.workers,
        httpConcurrency: 32,
        signal,
      }),
  );

  const { serverArgs, profileDir, setups } = options;
  if (options.runtimes.includes("bun")) {
    log("bundling our server for Bun");
    report.environment.bun = await bunVersion();
  }
  const commands: ServerCommand[] = [];
  for (const runtime of options.runtimes) {
    commands.push(
      ...await serverPair(runtime, { serverArgs, profileDir, setups }),
    );
  }
  report.ourFlags = commands[0]!.serverFlags;

  for (const scenario of options.scenarios) {
    if (stopped.aborted) break;
    const scenarioReport: ScenarioReport = { scenario, metrics: [], runs: [] };
    try {
      await withTimeLimit(
        options.scenarioLimitMs,
        stopped,
        (signal) =>
          runScenario(scenario, scenarioReport.runs, {
            ...options,
            ceilings: report.ceilings,
            commands,
            log,
            signal,
          }),
      );
    } catch (error) {
      scenarioReport.error = (error as Error).message;
      log(`${scenario.name}: stopped: ${scenarioReport.error}`);
    }
    scenarioReport.metrics = scenarioMetrics(scenario, scenarioReport.runs);
    report.scenarios.push(scenarioReport);
  }
  report.durationMs = performance.now() - started;
  return report;
}

/** What {@linkcode runScenario} needs besides its scenario. */
interface ScenarioContext extends BenchOptions {
  ceilings: Ceilings;
  /** How to start our server and the baseline, on each runtime. */
  commands: ServerCommand[];
  log: (line: string) => void;
  signal: AbortSignal;
}

/**
 * Runs one scenario against every server, pushing each run's result. The
 * servers are started and loaded with their clients once, then measured in
 * turn; only idle runs start a fresh server each, as memory is what they
 * measure.
 */
async function runScenario(
  scenario: Scenario,
  runs: RunResult[],
  context: ScenarioContext,
): Promise<void> {
  const { commands, runsPerServer, timing, signal } = context;
  function logRun(
    name: string,
    run: number,
    result: RunResult,
    started: number,
  ): void {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    context.log(
      `${scenario.name}: ${name} run ${run} of ${runsPerServer}: ${
        describe(scenario, result)
      } (${seconds} s)`,
    );
  }

  if (scenario.kind === "idle") {
    const workers = context.ceilings.websocketWorkers;
    for (let run = 1; run <= runsPerServer; run++) {
      for (const command of inTurn(commands, run)) {
        const started = performance.now();
        await using server = await startServerProcess(command);
        const result = await measureIdle(scenario, server, {
          workers,
          timing,
          signal,
        });
        runs.push(result);
        logRun(label(command), run, result, started);
      }
    }
    return;
  }

  const workers = scenario.kind === "rest"
    ? context.ceilings.httpWorkers
    : context.ceilings.websocketWorkers;
  context.log(
    `${scenario.name}: starting ${commands.length} servers and connecting their clients`,
  );
  await using servers = await startLoaded(commands, scenario, workers);
  // Every server gets the same paced load: half of the first measured rate
  // of our first setup (the in-memory one, unless --setups leaves it out).
  let pacedRate: number | undefined;
  const [first] = commands;
  for (let run = 1; run <= runsPerServer; run++) {
    for (const loaded of inTurn(servers.loaded, run)) {
      const started = performance.now();
      const result = await measureRun(loaded, {
        timing,
        pacedRate: (rate) =>
          pacedRate ??= loaded.server.name === first?.name
            ? rate / 2
            : undefined,
        signal,
      });
      runs.push(result);
      logRun(label(loaded.server), run, result, started);
    }
  }
}

/** Starts the servers and loads them with their clients, side by side. */
async function startLoaded(
  commands: ServerCommand[],
  scenario: RoundsScenario | RestScenario,
  workers: number,
): Promise<{ loaded: LoadedServer[] } & AsyncDisposable> {
  const settled = await Promise.allSettled(commands.map(async (command) => {
    const server = await startServerProcess(command);
    try {
      return await loadServer(server, scenario, workers);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }));
  const loaded = settled.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : []
  );
  async function dispose(): Promise<void> {
    await Promise.all(loaded.map((server) => server[Symbol.asyncDispose]()));
  }
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) {
    await dispose();
    throw failed.reason;
  }
  return { loaded, [Symbol.asyncDispose]: dispose };
}

/** In the given order in odd runs, the other way round in even ones. */
function inTurn<T>(servers: T[], run: number): T[] {
  return run % 2 === 1 ? servers : servers.toReversed();
}

/** A server as the progress log names it: `bun ours`. */
function label(server: { runtime: Runtime; name: string }): string {
  return `${server.runtime} ${server.name}`;
}

/** The version of the Bun that runs the servers, e.g. `1.4.5`. */
async function bunVersion(): Promise<string> {
  const { stdout } = await new Deno.Command(await findBun(), {
    args: ["--version"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout).trim();
}

/** A run's main figure, for the progress log. */
function describe(scenario: Scenario, run: RunResult): string {
  if (run.idle) {
    const kib = run.idle.bytesPerConnection / 1024;
    return `${kib.toFixed(1)} KiB per connection`;
  }
  const rate = Math.round(median(run.load?.rates ?? []));
  const unit = scenario.kind === "rest" ? "requests/s" : "frames/s";
  return `${rate.toLocaleString("en-US")} ${unit}`;
}

/** Runs `task` with a signal that aborts after `ms`, or with `outer`. */
async function withTimeLimit<T>(
  ms: number,
  outer: AbortSignal,
  task: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`time limit of ${ms / 1000} s reached`)),
    ms,
  );
  try {
    return await task(AbortSignal.any([controller.signal, outer]));
  } finally {
    clearTimeout(timer);
  }
}
