import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import type { BenchReport } from "../scripts/bench/bench.ts";
import { renderTable } from "../scripts/bench/report_table.ts";
import { SCENARIOS } from "../scripts/bench/scenarios.ts";
import { RUNTIMES } from "../scripts/bench/servers.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

/**
 * The bench's own command line, shrunk to a fraction of a second a run, on
 * every runtime: our server on Deno and on Bun, and each one's baseline.
 */
const SMOKE_ARGS = [
  "--json",
  "--runtime=all",
  "--runs=1",
  "--windows=2",
  "--window-ms=100",
  "--warmup-ms=100",
  "--max-clients=32",
];
const TIME_LIMIT_MS = 60_000;

/**
 * Runs `deno task bench` as a child process, as a user would: the bench
 * reads `/proc`, which Deno allows only with `--allow-all`, and the child
 * also proves that it stops every server it started before it exits.
 */
async function runBenchCommand(args: string[]): Promise<BenchReport> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("../scripts/bench/main.ts", import.meta.url).href,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGTERM"), TIME_LIMIT_MS);
  const output = await child.output().finally(() => clearTimeout(timer));
  const stderr = new TextDecoder().decode(output.stderr);
  assert(output.success, `the bench failed:\n${stderr}`);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test("deno task bench --runtime all produces every figure", async (t) => {
  const report = await runBenchCommand(SMOKE_ARGS);

  await t.step("measures the load generator's ceiling", () => {
    for (
      const ceiling of [...report.ceilings.websocket, ...report.ceilings.http]
    ) {
      assert(ceiling.rate > 0, `ceiling ${JSON.stringify(ceiling)}`);
    }
  });

  await t.step("renders the table, in words that fit one run", () => {
    const table = renderTable(report);
    assert(table.includes("each measured once per scenario"), table);
  });

  for (const { name } of SCENARIOS) {
    await t.step(
      `runs ${name} against ours and the baseline on every runtime`,
      () => {
        const scenario = report.scenarios.find((s) => s.scenario.name === name);
        assert(scenario, `no figures for ${name}`);
        assert(
          scenario.error === undefined,
          `${name} stopped: ${scenario.error}`,
        );
        for (const runtime of RUNTIMES) {
          const metrics = scenario.metrics.filter((m) => m.runtime === runtime);
          assert(metrics.length > 0, `no figures for ${name} on ${runtime}`);
          for (const metric of metrics) {
            for (const value of [metric.ours, metric.baseline]) {
              assert(
                Number.isFinite(value) && value > 0,
                `${name} ${metric.name} on ${runtime}: ${value}`,
              );
            }
          }
        }
      },
    );
  }
});

Deno.test({
  name:
    "deno task bench --setups measures our server on SQLite, on Redis and as two instances on Redis",
  ignore: !redisTestsEnabled(),
  async fn() {
    const report = await runBenchCommand([
      ...SMOKE_ARGS.filter((arg) => !arg.startsWith("--runtime")),
      "--setups=memory,sqlite,redis,redis-x2",
      "rooms",
    ]);
    const [scenario] = report.scenarios;
    assert(scenario && scenario.error === undefined, scenario?.error);
    const rates = scenario.metrics.filter((m) =>
      m.name === "delivered frames/s"
    );
    assertEquals(rates.map((m) => m.server), [
      "ours",
      "ours (sqlite)",
      "ours (redis)",
      "ours (redis-x2)",
    ]);
    for (const metric of rates) {
      assert(metric.ours > 0 && metric.baseline > 0, JSON.stringify(metric));
      if (metric.server !== "ours") assert(metric.versusMemory! > 0);
    }
    const redisCpu = scenario.metrics.filter((m) =>
      m.name === "Redis CPU per frame (µs)"
    );
    assertEquals(redisCpu.map((m) => m.server), [
      "ours (redis)",
      "ours (redis-x2)",
    ]);
    for (const metric of redisCpu) assert(metric.ours >= 0);
  },
});
