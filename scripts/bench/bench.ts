import { type Ceilings, measureCeilings } from "./ceiling.ts";
import { type Metric, scenarioMetrics } from "./metrics.ts";
import { runOnce, type RunResult, type Timing } from "./run_once.ts";
import type { Scenario } from "./scenarios.ts";
import { startServerProcess } from "./server_process.ts";
import {
  baselineServer,
  ourServer,
  type OurServerOptions,
  type ServerCommand,
} from "./servers.ts";

/** Options of {@linkcode runBench}. */
export interface BenchOptions {
  /** The scenarios to run, in order. */
  scenarios: readonly Scenario[];
  timing: Timing;
  /** Runs of each server per scenario, alternating which one goes first. */
  runsPerServer: number;
  /** How our server is started: extra server and `deno run` flags. */
  ours?: OurServerOptions;
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
    cpus: number;
    loadAverage: number[];
  };
  options: Omit<BenchOptions, "log" | "signal" | "scenarios">;
  ceilings: Ceilings;
  scenarios: ScenarioReport[];
}

/**
 * Runs every scenario against our server and the baseline, each started
 * afresh for every run, in alternating order (ours first, then baseline
 * first, ...), so that a machine that gets busier does not favour either.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadAverage = Deno.loadavg();

  const stopped = options.signal ?? new AbortController().signal;

  log("measuring the load generator's ceiling against the sink server");
  const ceilings = await withTimeLimit(
    options.scenarioLimitMs,
    stopped,
    (signal) =>
      measureCeilings({
        timing: {
          ...options.timing,
          windows: Math.min(options.timing.windows, 2),
        },
        workers: options.workers,
        httpConcurrency: 32,
        signal,
      }),
  );

  const servers = [ourServer(options.ours), baselineServer()];
  const scenarios = [];
  for (const scenario of options.scenarios) {
    if (stopped.aborted) break;
    const workers = scenario.kind === "rest"
      ? ceilings.httpWorkers
      : ceilings.websocketWorkers;
    const runs: RunResult[] = [];
    const report: ScenarioReport = { scenario, metrics: [], runs };
    try {
      await withTimeLimit(options.scenarioLimitMs, stopped, async (signal) => {
        let pacedRate: number | undefined;
        for (let i = 0; i < options.runsPerServer; i++) {
          for (const command of i % 2 === 0 ? servers : servers.toReversed()) {
            log(
              `${scenario.name}: ${command.name}, run ${
                i + 1
              } of ${options.runsPerServer}`,
            );
            const run = await runServer(command, (server) =>
              runOnce(scenario, {
                server,
                workers,
                timing: options.timing,
                // Both servers get the same paced load: half our maximum.
                pacedRate: (closedLoopRate) =>
                  pacedRate ??= command.name === "ours"
                    ? closedLoopRate / 2
                    : undefined,
                signal,
              }));
            runs.push(run);
          }
        }
      });
    } catch (error) {
      report.error = (error as Error).message;
      log(`${scenario.name}: stopped: ${report.error}`);
    }
    report.metrics = scenarioMetrics(scenario, runs);
    scenarios.push(report);
  }

  const { log: _, signal: __, scenarios: ___, ...settings } = options;
  return {
    startedAt,
    durationMs: performance.now() - started,
    environment: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      cpus: navigator.hardwareConcurrency,
      loadAverage,
    },
    options: settings,
    ceilings,
    scenarios,
  };
}

async function runServer<T>(
  command: ServerCommand,
  use: (server: Awaited<ReturnType<typeof startServerProcess>>) => Promise<T>,
): Promise<T> {
  await using server = await startServerProcess(command);
  return await use(server);
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
