/**
 * Runs the README's commands as a reader who has only Node.js would, and
 * checks that each starts, answers or stops as the README says.
 *
 * The commands run in a {@linkcode Sandbox}: a clean copy of the repository
 * in a temporary folder, no deno and no bun on the PATH, npm's global
 * folder in there (so that `npm install -g` installs there), and an empty
 * Deno cache (so that the first start shows what it downloads). npm may use
 * its cache offline; Deno fetches from the npm registry.
 *
 * ```sh
 * deno run -A scripts/readme_check.ts          # every command, Linux only
 * deno run -A scripts/readme_check.ts --keep   # and keep the folder
 * ```
 *
 * Every server starts on a free port rather than 3000 or 8080 (through
 * `PORT`, or in place of the port in the command), so that the check runs
 * beside a server that already uses them. The README's commands and the
 * checks below must match one for one: a command added to the README needs
 * a check here.
 *
 * Exits 0 when every command behaved as documented, 1 otherwise.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { redisTestsEnabled } from "../tests/_redis_server.ts";
import { freePort } from "./_free_port.ts";
import { findNginx } from "./_nginx.ts";
import { startRedisServer } from "./_redis_server.ts";
import { Command, Sandbox } from "./_sandbox.ts";
import { DENO_EXECUTABLE } from "./deno_compile.ts";

const REPO = new URL("..", import.meta.url).pathname;

/** Waits for a server's address, then for `GET /healthz` to answer 200. */
async function serving(server: Command, port: number): Promise<void> {
  await server.line(new RegExp(`WebSocket: ws://localhost:${port}$`));
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  const body = await response.json();
  if (response.status !== 200 || body.status !== "ok") {
    throw new Error(`GET /healthz answered ${response.status}`);
  }
}

/** Starts a server command, checks it serves, stops it with a signal. */
async function serveAndStop(
  sandbox: Sandbox,
  command: string,
  port: number,
  stop: { signal: Deno.Signal; group: boolean; code: number },
  env: Record<string, string> = {},
): Promise<void> {
  await using server = sandbox.spawn(command, env);
  await serving(server, port);
  server.signal(stop.signal, stop.group);
  const code = await server.exited();
  expect(code === stop.code, `exit code ${code}, not ${stop.code}`);
  expect(/server\.stopped/.test(server.output), "no server.stopped logged");
  await server.noneLeft();
}

/** Starts a long command, waits for its first sign of life, ends it. */
async function startsWith(
  sandbox: Sandbox,
  command: string,
  line: RegExp,
  env: Record<string, string> = {},
): Promise<void> {
  await using process = sandbox.spawn(command, env);
  await process.line(line);
}

function expect(condition: boolean, problem: string): asserts condition {
  if (!condition) throw new Error(problem);
}

/** A check that cannot run here: reported, but not a failure. */
class Skipped extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Skipped";
  }
}

/** Redis commands need `redis-server`, as the README says (CI has it). */
function needRedis(): void {
  if (!redisTestsEnabled()) throw new Skipped("no redis-server installed");
}

/** The npm packages in the Deno cache, as `name@version`. */
async function cachedPackages(denoDir: string): Promise<string[]> {
  const packages: string[] = [];
  async function scan(dir: string, prefix: string) {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isDirectory) continue;
      if (entry.name.startsWith("@")) {
        await scan(`${dir}/${entry.name}`, `${entry.name}/`);
        continue;
      }
      for await (const version of Deno.readDir(`${dir}/${entry.name}`)) {
        if (version.isDirectory) {
          packages.push(`${prefix}${entry.name}@${version.name}`);
        }
      }
    }
  }
  // One folder per registry, e.g. npm/registry.npmjs.org/valibot/1.5.0
  for await (const registry of Deno.readDir(`${denoDir}/npm`)) {
    if (registry.isDirectory) await scan(`${denoDir}/npm/${registry.name}`, "");
  }
  return packages.sort();
}

/**
 * The npm packages `main.ts` imports, with theirs, as `name@version`: from
 * the module graph of `deno info` (its `npmPackages` lists every package of
 * the lockfile).
 */
async function serverPackages(sandbox: Sandbox): Promise<string[]> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: sandbox.dir,
    env: { DENO_DIR: sandbox.denoDir, NO_COLOR: "1" },
    stdin: "null",
    stderr: "null",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(stdout));
  const packages: Record<string, { dependencies: string[] }> =
    info.npmPackages ?? {};
  const needed = new Set<string>();
  const add = (id: string) => {
    if (needed.has(id)) return;
    needed.add(id);
    for (const dependency of packages[id]?.dependencies ?? []) add(dependency);
  };
  for (const module of info.modules) {
    if (module.npmPackage) add(module.npmPackage);
  }
  // "a@1.0.0_peer@2.0.0" is a with its peers: the folder is a's
  return [...new Set([...needed].map((id) => id.replace(/_.*$/, "")))].sort();
}

/** One README command and how to check it. */
interface Check {
  /** The command as the README writes it. */
  readme: string;
  /** Runs it and throws when it does not behave as documented. */
  run(sandbox: Sandbox): Promise<void>;
}

const CTRL_C = { signal: "SIGINT", group: true } as const;
const SIGTERM = { signal: "SIGTERM", group: false } as const;
const SIGINT = { signal: "SIGINT", group: false } as const;
const FIRST_CHECK_LINE = /^Checked \d+ files?$/;

/** The server every REST and client example talks to. */
let servicePort = 0;
let service: Command | undefined;

/**
 * A command that starts a server: on a free port (in place of 8080 in the
 * command, or through `PORT` when it names none), which must serve, then
 * stop on `stop` with exit code 0.
 */
function serves(
  readme: string,
  stop: { signal: Deno.Signal; group: boolean },
): Check {
  return {
    readme,
    run(sandbox) {
      const port = String(freePort());
      const [, variable, command] = /^(PORT=8080 )?(.*)$/.exec(readme)!;
      const named = !variable && command!.includes("8080");
      return serveAndStop(
        sandbox,
        command!.replace("8080", port),
        Number(port),
        { ...stop, code: 0 },
        named ? {} : { PORT: port },
      );
    },
  };
}

function bench(readme: string): Check {
  return {
    readme,
    async run(sandbox) {
      await using run = sandbox.spawn(readme);
      await run.line(/^bench +[\d.]+ s: /);
      // Ctrl-C: the bench stops its servers, then exits.
      run.signal("SIGINT", true);
      await run.exited(30_000);
      await run.noneLeft();
    },
  };
}

/**
 * A command with the README's example Redis address, where no Redis
 * answers: the server says so in one line that names the address (`shown`,
 * without the password), and exits with code 1.
 */
function unreachableRedis(readme: string, shown: string): Check {
  return {
    readme,
    async run(sandbox) {
      const { code, output } = await sandbox.run(readme);
      // (deno task itself echoes the command first, password included.)
      const server = output.trim().split("\n").filter((line) =>
        !line.startsWith("Task ")
      );
      expect(
        code === 1 && server.length === 1 &&
          server[0]!.startsWith(`error: Cannot reach Redis at ${shown}`) &&
          !server[0]!.includes("secret"),
        `exit code ${code}:\n${output}`,
      );
    },
  };
}

/**
 * `deno task cluster`: Redis (its own, or one started here in place of
 * 6379), instances and nginx on a free port (in place of 8080, or through
 * `PORT`); the page must load through nginx, and Ctrl-C must stop it all.
 */
function cluster(readme: string): Check {
  return {
    readme,
    async run(sandbox) {
      needRedis();
      if (!findNginx()) throw new Skipped("no nginx installed");
      await using redis = readme.includes("6379")
        ? await startRedisServer()
        : undefined;
      const port = String(freePort());
      const command = readme.replace("8080", port)
        .replace("6379", String(redis?.port));
      await using run = sandbox.spawn(
        command,
        command.includes(port) ? {} : { PORT: port },
      );
      await run.line(/^Chat cluster ready: http:\/\/localhost:\d+ /);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(
        page.status === 200 && (await page.text()).includes("<html"),
        `GET / through nginx answered ${page.status}`,
      );
      run.signal("SIGINT", true);
      const code = await run.exited(20_000);
      expect(code === 0, `exit code ${code}, not 0:\n${run.output}`);
      await run.noneLeft();
    },
  };
}

function testTask(readme: string, env: Record<string, string> = {}): Check {
  return {
    readme,
    run: (sandbox) =>
      startsWith(sandbox, "deno task test", FIRST_CHECK_LINE, env),
  };
}

/** Every command of the README, in the order a reader meets them. */
export const CHECKS: Check[] = [
  {
    readme: "npx -y deno@2.9.6 task start",
    async run(sandbox) {
      const { code } = await sandbox.run(
        "sh -c 'command -v deno || command -v bun'",
      );
      expect(code !== 0, "deno or bun is on the PATH of the check");
      const port = freePort();
      await using server = sandbox.spawn("npx -y deno@2.9.6 task start", {
        PORT: String(port),
      });
      await serving(server, port);
      // The first start fetches the server's packages, and nothing else.
      const fetched = await cachedPackages(sandbox.denoDir);
      const needed = await serverPackages(sandbox);
      expect(
        JSON.stringify(fetched) === JSON.stringify(needed),
        `the first start fetched ${fetched.join(", ")}; the server needs ` +
          `${needed.join(", ")} (does deno.json or deno.lock list test tools?)`,
      );
      // Ctrl-C: the server stops cleanly; npx exits with 130, as documented.
      server.signal("SIGINT", true);
      const exit = await server.exited();
      expect(exit === 130, `npx exited with ${exit}, not 130`);
      expect(/server\.stopped/.test(server.output), "no server.stopped logged");
      await server.noneLeft();

      // SIGTERM to npx alone: npx exits with 143, the server keeps running
      // (as the README warns); the group is then killed.
      await using again = sandbox.spawn("npx -y deno@2.9.6 task start", {
        PORT: String(port),
      });
      await serving(again, port);
      again.signal("SIGTERM");
      const npx = await again.exited();
      expect(npx === 143, `npx exited with ${npx} on SIGTERM, not 143`);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      await health.body?.cancel();
      expect(health.ok, "the server stopped with npx");
    },
  },
  {
    readme: "npx -y deno@2.9.6 task test",
    run: (sandbox) =>
      startsWith(sandbox, "npx -y deno@2.9.6 task test", FIRST_CHECK_LINE),
  },
  {
    readme: "npm install -g deno@2.9.6",
    async run(sandbox) {
      const install = await sandbox.run("npm install -g deno@2.9.6");
      expect(install.code === 0, `npm install failed:\n${install.output}`);
      const version = await sandbox.run("deno --version");
      expect(
        version.output.startsWith("deno 2.9.6"),
        `deno --version: ${version.output}`,
      );
    },
  },
  {
    readme: "deno task start",
    async run(sandbox) {
      // Left running for the examples below, then stopped with SIGTERM.
      servicePort = freePort();
      service = sandbox.spawn("deno task start", {
        PORT: String(servicePort),
      });
      await serving(service, servicePort);
    },
  },
  {
    readme:
      `curl -X POST http://localhost:3000/send -H "Content-Type: application/json" -d '{"room_id": "general", "from": "curl", "message": "Hi from the terminal"}'`,
    async run(sandbox) {
      const { code, output } = await sandbox.run(
        onService(this.readme).replace("curl ", "curl -s "),
      );
      const stored = JSON.parse(output);
      expect(
        code === 0 && stored.message === "Hi from the terminal" &&
          typeof stored.id === "number",
        `answered: ${output}`,
      );
    },
  },
  {
    readme: "deno task client --room general --name Will",
    async run(sandbox) {
      const { code, output } = await sandbox.run(
        `${this.readme} --url ws://localhost:${servicePort}`,
      );
      expect(
        code === 0 && output.includes("[general] * Will joined") &&
          output.includes("curl: Hi from the terminal"),
        `exit code ${code}:\n${output}`,
      );
    },
  },
  {
    readme: "deno task client --room general --name Will --url ws://host:3000",
    async run(sandbox) {
      const { code, output } = await sandbox.run(
        onService(this.readme.replace("ws://host:", "ws://localhost:")),
      );
      expect(
        code === 0 && output.includes("[general] * Will joined"),
        `exit code ${code}:\n${output}`,
      );
    },
  },
  {
    readme:
      "printf 'Hello from a script\\n' | deno task client --room general --name bot",
    async run(sandbox) {
      const { code, output } = await sandbox.run(
        `${this.readme} --url ws://localhost:${servicePort}`,
      );
      expect(
        code === 0 &&
          /\[general\] \d\d:\d\d bot: Hello from a script/.test(output),
        `exit code ${code}:\n${output}`,
      );
    },
  },
  {
    readme:
      `curl -X POST http://localhost:3000/receive -H "Content-Type: application/json" -d '{"room_id": "general", "before": 42, "limit": 2}'`,
    async run(sandbox) {
      const { output } = await sandbox.run(
        onService(this.readme).replace("curl ", "curl -s "),
      );
      const page = JSON.parse(output);
      expect(
        Array.isArray(page.messages) && page.messages.length === 2 &&
          typeof page.has_more === "boolean",
        `answered: ${output}`,
      );
      // The server of the examples stops on SIGTERM, with code 0.
      const server = service!;
      service = undefined;
      await using _ = server;
      server.signal("SIGTERM");
      const code = await server.exited();
      expect(code === 0, `deno task start exited with ${code} on SIGTERM`);
      await server.noneLeft();
    },
  },
  {
    readme: "deno task start --help",
    async run(sandbox) {
      const { code, output } = await sandbox.run(this.readme);
      expect(code === 0 && output.includes("--port <value>"), output);
    },
  },
  serves("PORT=8080 deno task start", SIGINT),
  serves("deno task start --port 8080 --rate-limit 0", CTRL_C),
  {
    readme: "deno task compile:bun",
    async run(sandbox) {
      const { code, output } = await sandbox.run(this.readme);
      expect(
        code === 0 && /dist\/chat-server-bun: [\d.]+ MiB/.test(output),
        `exit code ${code}:\n${output}`,
      );
    },
  },
  serves("./dist/chat-server-bun", SIGTERM),
  serves("./dist/chat-server-bun --port 8080 --db :memory:", SIGINT),
  serves("deno task start:bun --port 8080", SIGTERM),
  serves("deno task start:bun", CTRL_C),
  {
    readme: "deno task compile",
    async run(sandbox) {
      // With the network it builds; without, it says so in one line.
      const { code, output } = await sandbox.run(this.readme);
      const built = DENO_EXECUTABLE.replace(REPO, `${sandbox.dir}/`);
      const offline = output.trim().split("\n").at(-1)!;
      expect(
        code === 0
          ? (await Deno.stat(built)).isFile
          : code === 1 && offline.startsWith("error: deno compile could not") &&
            offline.endsWith("deno task compile:bun"),
        `exit code ${code}:\n${output}`,
      );
    },
  },
  {
    readme:
      "deno test --allow-all --trace-leaks --lock=tests/deno.lock tests/client_test.ts",
    run: (sandbox) =>
      startsWith(
        sandbox,
        "deno test --allow-all --trace-leaks --lock=tests/deno.lock tests/client_test.ts",
        /^running \d+ tests from \.\/tests\/client_test\.ts$/,
      ),
  },
  testTask("deno task test"),
  {
    readme: "deno task test tests/main_test.ts",
    run: (sandbox) =>
      startsWith(
        sandbox,
        "deno task test tests/main_test.ts",
        FIRST_CHECK_LINE,
      ),
  },
  {
    readme: "deno task test:browser",
    run: (sandbox) =>
      startsWith(sandbox, "deno task test:browser", /^deno test: the whole/),
  },
  testTask("FUZZ_SEED=<seed> FUZZ_PATH=<path> deno task test", {
    FUZZ_SEED: "1",
    FUZZ_PATH: "0",
  }),
  testTask("FUZZ_RUNS=2000 deno task test", { FUZZ_RUNS: "2000" }),
  {
    readme: "deno task soak",
    run: (sandbox) =>
      startsWith(sandbox, "deno task soak", /^soak: starting a server/),
  },
  {
    readme: "deno task soak --abuse",
    run: (sandbox) =>
      startsWith(sandbox, "deno task soak --abuse", /^soak --abuse: starting/),
  },
  {
    readme: "deno task soak --abuse --seconds 30 --attack slowloris",
    run: (sandbox) =>
      startsWith(
        sandbox,
        "deno task soak --abuse --seconds 30 --attack slowloris",
        /^soak --abuse: starting/,
      ),
  },
  {
    readme: "deno task store-throughput",
    run: (sandbox) =>
      startsWith(sandbox, "deno task store-throughput", /rooms x \d+ members/),
  },
  {
    readme: "deno task start --redis redis://127.0.0.1:6379",
    async run(sandbox) {
      needRedis();
      await using redis = await startRedisServer();
      const port = freePort();
      await serveAndStop(
        sandbox,
        this.readme.replace("6379", String(redis.port)),
        port,
        { ...SIGTERM, code: 0 },
        { PORT: String(port) },
      );
    },
  },
  unreachableRedis(
    "deno task start --redis rediss://chat:secret@redis.example:6380/2",
    "rediss://chat:***@redis.example:6380/2",
  ),
  {
    readme: "deno task store-latency",
    async run(sandbox) {
      needRedis();
      const { code, output } = await sandbox.run(this.readme);
      expect(
        code === 0 && output.includes("| store | append p50 |"),
        `exit code ${code}:\n${output}`,
      );
    },
  },
  cluster("deno task cluster"),
  cluster(
    "deno task cluster --instances 2 --port 8080 --redis redis://127.0.0.1:6379",
  ),
  cluster("deno task cluster -- --history-max 500"),
  unreachableRedis(
    "deno task start --redis redis://redis.internal:6379 --trust-proxy 10.0.0.5",
    "redis://redis.internal:6379",
  ),
  {
    readme: "deno task bench --help",
    async run(sandbox) {
      const { code, output } = await sandbox.run(this.readme);
      expect(code === 0 && output.includes("Usage: deno task bench"), output);
    },
  },
  bench("deno task bench"),
  bench("deno task bench room16 --quick"),
  bench('deno task bench --server-args="--db bench-results/bench.db"'),
  bench("deno task bench room16 --profile"),
  bench("deno task bench --runtime all"),
  bench("deno task bench --runtime deno --runs 3 idle"),
  bench("deno task bench rooms --setups memory,sqlite,redis,redis-x2"),
  {
    readme: "npm install -g bun@1.4.5",
    async run(sandbox) {
      const install = await sandbox.run(this.readme);
      expect(install.code === 0, `npm install failed:\n${install.output}`);
      const version = await sandbox.run("bun --version");
      expect(version.output.trim() === "1.4.5", version.output);
    },
  },
];

/** A command of the README, pointed at the server of the examples. */
function onService(command: string): string {
  return command.replaceAll(":3000", `:${servicePort}`);
}

/**
 * The commands the README gives: every line of its `sh` blocks (comments
 * left out), and inline commands that run a task or install something.
 */
export function readmeCommands(readme: string): string[] {
  const commands: string[] = [];
  const lines = readme.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```sh") continue;
    let command = "";
    for (i++; i < lines.length && lines[i] !== "```"; i++) {
      const line = lines[i]!.replace(/\s{2,}#.*$/, "").trimEnd();
      command += line.endsWith("\\") ? line.slice(0, -1) : line;
      if (line.endsWith("\\")) continue;
      if (command.trim() !== "") {
        commands.push(command.trim().replace(/\s+/g, " "));
      }
      command = "";
    }
  }
  // Code spans, paired from the start, outside the code blocks.
  const prose = readme.replace(/^```[^]*?^```$/gm, "");
  const command =
    /^(?:[A-Z_]+=\S+ )*(?:deno task \S|deno test \S|npm install \S)/;
  for (const [, span] of prose.matchAll(/`([^`]+)`/g)) {
    const code = span!.replace(/\s+/g, " ");
    if (command.test(code)) commands.push(code);
  }
  return [...new Set(commands)];
}

/** Runs every check; the lines to print and whether all passed. */
async function checkReadme(keep: boolean): Promise<boolean> {
  const readme = await Deno.readTextFile(`${REPO}README.md`);
  const documented = readmeCommands(readme);
  const checked = new Set(CHECKS.map((check) => check.readme));
  const unchecked = documented.filter((command) => !checked.has(command));
  const gone = [...checked].filter((command) => !documented.includes(command));
  for (const command of unchecked) {
    console.log(`FAIL ${command}: no check in scripts/readme_check.ts`);
  }
  for (const command of gone) {
    console.log(`FAIL ${command}: checked, but no longer in the README`);
  }
  let passed = unchecked.length === 0 && gone.length === 0;

  const sandbox = await Sandbox.create();
  try {
    for (const check of CHECKS) {
      const started = performance.now();
      let result = "ok  ";
      let problem = "";
      try {
        await check.run(sandbox);
      } catch (error) {
        result = error instanceof Skipped ? "skip" : "FAIL";
        problem = `: ${(error as Error).message}`;
        if (result === "FAIL") passed = false;
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`${result} ${check.readme} (${seconds} s)${problem}`);
    }
  } finally {
    if (service) await service[Symbol.asyncDispose]();
    if (keep) console.log(`kept ${sandbox.root}`);
    else await sandbox.remove();
  }
  return passed;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: { keep: { type: "boolean", default: false } },
  });
  Deno.exit(await checkReadme(values.keep) ? 0 : 1);
}
