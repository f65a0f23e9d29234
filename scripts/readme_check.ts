/**
 * Runs the README's commands as a reader who has only Node.js would, and
 * checks that each starts or answers as the README says.
 *
 * The commands run in a clean copy of the repository in a temporary folder,
 * with a PATH that holds node, npm, npx, curl and the usual shell tools but
 * no deno and no bun, npm's global folder in that temporary folder (so that
 * `npm install -g` installs there), and an empty Deno cache (so that the
 * first start shows what it downloads). npm may use its cache offline; Deno
 * fetches from the npm registry.
 *
 * ```sh
 * deno run -A scripts/readme_check.ts          # every command, Linux only
 * deno run -A scripts/readme_check.ts --keep   # and keep the folder
 * ```
 *
 * Every server starts on a free port rather than 3000 or 8080 (through
 * `PORT`, or by changing the port in the command), so that the check runs
 * beside a server that already uses them. Each command runs in a session of
 * its own (`setsid`), so that Ctrl-C is sent as a terminal sends it, to the
 * whole process group, and so that a process left running is found. The
 * README's commands and the checks below must match one for one: a command
 * added to the README needs a check here.
 *
 * Exits 0 when every command behaved as documented, 1 otherwise.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { redisTestsEnabled, startRedisServer } from "../tests/_redis_server.ts";
import { DENO_EXECUTABLE } from "./deno_compile.ts";

const REPO = new URL("..", import.meta.url).pathname;

/** Tools a machine with Node.js has; deno and bun are left out on purpose. */
const TOOLS = [
  "node",
  "npm",
  "npx",
  "curl",
  "sh",
  "bash",
  "env",
  "cat",
  "ls",
  "cp",
  "mv",
  "rm",
  "mkdir",
  "ln",
  "chmod",
  "sed",
  "grep",
  "printf",
  "echo",
  "uname",
  "dirname",
  "basename",
  "readlink",
  "realpath",
  "tr",
  "head",
  "tail",
  "sleep",
  "kill",
  "ps",
  "tee",
  "sort",
  "wc",
  "tar",
  "gzip",
  "id",
  "which",
  "true",
  "false",
  "test",
  "touch",
  "find",
  "xargs",
  "setsid",
  // What the README asks to install for its Redis commands.
  "redis-server",
  "redis-cli",
];

/** Variables a reader's machine has set, which the commands keep. */
const PASSED_ON =
  /^(LANG|LC_\w+|TERM|(https?|no|all)_proxy|SSL_CERT_(FILE|DIR)|NODE_EXTRA_CA_CERTS|CURL_CA_BUNDLE|DENO_CERT|DENO_TLS_CA_STORE|npm_config_\w+)$/i;

/** What the copy leaves out: what a clean clone does not have. */
const NOT_COPIED = new Set([
  ".git",
  "data",
  "dist",
  "bench-results",
  "test-results",
  "node_modules",
]);

/** How long a command may take to start, answer or stop. */
const START_MS = 90_000;
const STOP_MS = 10_000;

/** The temporary folder and the environment the commands run in. */
export class Sandbox {
  /** The copy of the repository, where every command runs. */
  readonly dir: string;
  readonly #root: string;
  readonly #env: Record<string, string>;

  private constructor(root: string, env: Record<string, string>) {
    this.#root = root;
    this.dir = `${root}/chat`;
    this.#env = env;
  }

  /** Makes the folder: the copy, the tools, an empty Deno cache. */
  static async create(): Promise<Sandbox> {
    const root = await Deno.makeTempDir({ prefix: "readme_check_" });
    await copyTree(REPO, `${root}/chat`);
    for (const dir of ["bin", "npm-global/bin", "deno-dir", "tmp"]) {
      await Deno.mkdir(`${root}/${dir}`, { recursive: true });
    }
    for (const tool of TOOLS) {
      const path = which(tool);
      if (path) await Deno.symlink(path, `${root}/bin/${tool}`);
    }
    const env: Record<string, string> = {
      PATH: `${root}/npm-global/bin:${root}/bin`,
      HOME: Deno.env.get("HOME") ?? root,
      DENO_DIR: `${root}/deno-dir`,
      TMPDIR: `${root}/tmp`,
      NO_COLOR: "1",
      npm_config_prefix: `${root}/npm-global`,
      npm_config_prefer_offline: "true",
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
    };
    // The machine's own settings: language, proxies, certificates, npm.
    for (const [name, value] of Object.entries(Deno.env.toObject())) {
      if (PASSED_ON.test(name) && !(name in env)) env[name] = value;
    }
    return new Sandbox(root, env);
  }

  /** Where `deno` lives once `npm install -g deno` ran, if it did. */
  get npmGlobalBin(): string {
    return `${this.#root}/npm-global/bin`;
  }

  /** The Deno cache the commands fill. */
  get denoDir(): string {
    return `${this.#root}/deno-dir`;
  }

  /**
   * Starts a command as a user types it, in a session of its own; `env`
   * adds variables, as `PORT=8080 command` does.
   */
  spawn(command: string, env: Record<string, string> = {}): Command {
    return new Command(command, this.dir, { ...this.#env, ...env });
  }

  /** Runs a command to its end; its exit code and output. */
  async run(
    command: string,
    env: Record<string, string> = {},
    ms = START_MS,
  ): Promise<{ code: number; output: string }> {
    await using process = this.spawn(command, env);
    const code = await process.exited(ms);
    return { code, output: process.output };
  }

  /** Removes the folder. */
  async remove(): Promise<void> {
    await Deno.remove(this.#root, { recursive: true });
  }

  /** The folder, for `--keep`. */
  get root(): string {
    return this.#root;
  }
}

/** A command running in its own session, its output recorded. */
export class Command implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #reading: Promise<void>;
  #output = "";
  #changed = Promise.withResolvers<void>();
  #status: Deno.CommandStatus | undefined;

  constructor(command: string, cwd: string, env: Record<string, string>) {
    // `exec` keeps one process from the shell to the command, so that a
    // signal sent to it reaches the command, as it would from a terminal.
    const script = /[|;&]/.test(command) ? command : `exec ${command}`;
    this.#child = new Deno.Command("setsid", {
      args: ["sh", "-c", script],
      cwd,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const decoder = () => new TextDecoderStream();
    this.#reading = Promise.all(
      [this.#child.stdout, this.#child.stderr].map(async (stream) => {
        for await (const chunk of stream.pipeThrough(decoder())) {
          this.#output += chunk;
          this.#changed.resolve();
          this.#changed = Promise.withResolvers();
        }
      }),
    ).then(() => this.#changed.resolve());
    this.#child.status.then((status) => this.#status = status);
  }

  /** Everything printed so far, stdout and stderr. */
  get output(): string {
    return this.#output;
  }

  /** Waits for a line of output that matches; returns its match. */
  async line(pattern: RegExp, ms = START_MS): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (const line of this.#output.split("\n")) {
        const match = line.match(pattern);
        if (match) return match;
      }
      if (this.#status) {
        throw new Error(`it exited (${this.#status.code}) before ${pattern}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${pattern} within ${ms} ms`);
      await waitAtMost(this.#changed.promise, left);
    }
  }

  /** Sends a signal to the command (`group`: to all of it, as Ctrl-C). */
  signal(signal: Deno.Signal, group = false): void {
    try {
      Deno.kill(group ? -this.#child.pid : this.#child.pid, signal);
    } catch {
      // It has exited.
    }
  }

  /** Waits for the command to exit; its exit code. */
  async exited(ms = STOP_MS): Promise<number> {
    const status = await waitAtMost(this.#child.status, ms);
    if (!status) throw new Error(`still running after ${ms} ms`);
    // Its last words; a process it left running may hold the pipes open.
    await waitAtMost(this.#reading, 1000);
    return status.code;
  }

  /** The processes of its session still running (Linux: /proc). */
  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`)
        .catch(() => "");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // state ppid pgrp session: a zombie is gone but for its exit status
      if (fields[3] === String(this.#child.pid) && fields[0] !== "Z") {
        const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`)
          .catch(() => "");
        left.push(cmdline.replaceAll("\0", " ").trim());
      }
    }
    return left;
  }

  /** Waits until no process of its session is left, or says which are. */
  async noneLeft(ms = STOP_MS): Promise<void> {
    const deadline = Date.now() + ms;
    let left = await this.leftovers();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = await this.leftovers();
    }
    if (left.length > 0) throw new Error(`still running: ${left.join("; ")}`);
  }

  /** Kills whatever is left of the session. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.signal("SIGKILL", true);
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // It has exited.
    }
    await this.#child.status;
    await this.#reading;
  }
}

/** Resolves with the promise's value, or `undefined` after `ms`. */
async function waitAtMost<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  let timer;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function which(tool: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${tool}`).isFile) return `${dir}/${tool}`;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (NOT_COPIED.has(entry.name)) continue;
    const [source, target] = [`${from}/${entry.name}`, `${to}/${entry.name}`];
    if (entry.isDirectory) await copyTree(source, target);
    else if (entry.isFile) await Deno.copyFile(source, target);
  }
}

/** A port nothing listens on now. */
function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

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
  {
    readme: "PORT=8080 deno task start",
    run(sandbox) {
      const port = freePort();
      return serveAndStop(sandbox, "deno task start", port, {
        ...SIGINT,
        code: 0,
      }, { PORT: String(port) });
    },
  },
  {
    readme: "deno task start --port 8080 --rate-limit 0",
    run(sandbox) {
      const port = freePort();
      return serveAndStop(
        sandbox,
        this.readme.replace("8080", String(port)),
        port,
        { ...CTRL_C, code: 0 },
      );
    },
  },
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
  {
    readme: "./dist/chat-server-bun",
    run(sandbox) {
      const port = freePort();
      return serveAndStop(sandbox, this.readme, port, {
        ...SIGTERM,
        code: 0,
      }, { PORT: String(port) });
    },
  },
  {
    readme: "./dist/chat-server-bun --port 8080 --db :memory:",
    run(sandbox) {
      const port = freePort();
      return serveAndStop(
        sandbox,
        this.readme.replace("8080", String(port)),
        port,
        { ...SIGINT, code: 0 },
      );
    },
  },
  {
    readme: "deno task start:bun --port 8080",
    run(sandbox) {
      const port = freePort();
      return serveAndStop(
        sandbox,
        this.readme.replace("8080", String(port)),
        port,
        { ...SIGTERM, code: 0 },
      );
    },
  },
  {
    readme: "deno task start:bun",
    run(sandbox) {
      const port = freePort();
      return serveAndStop(sandbox, this.readme, port, {
        ...CTRL_C,
        code: 0,
      }, { PORT: String(port) });
    },
  },
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
  {
    readme: "deno task start --redis rediss://chat:secret@redis.example:6380/2",
    async run(sandbox) {
      // An example address: no Redis answers there, which the server says
      // in one line, without the password.
      const { code, output } = await sandbox.run(this.readme);
      // (deno task itself echoes the command first, password included.)
      const server = output.trim().split("\n").filter((line) =>
        !line.startsWith("Task ")
      );
      expect(
        code === 1 && server.length === 1 &&
          server[0]!.startsWith(
            "error: Cannot reach Redis at rediss://chat:***@redis.example:6380/2",
          ) && !server[0]!.includes("secret"),
        `exit code ${code}:\n${output}`,
      );
    },
  },
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
