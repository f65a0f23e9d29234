/**
 * A temporary folder where commands run as on a machine that has only
 * Node.js: a clean copy of the repository, a PATH with node, npm, npx, curl
 * and the usual shell tools but no deno and no bun, npm's global folder
 * inside the folder, and an empty Deno cache. Each command runs in a session
 * of its own (`setsid`, Linux), so that Ctrl-C can be sent as a terminal
 * sends it, to the whole process group, and a process left running is
 * found (in `/proc`). Used by `scripts/readme_check.ts`.
 *
 * @module
 */
import { waitAtMost } from "../lib/_wait_at_most.ts";
import { delay, within } from "./_timing.ts";

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
  // What the README asks to install for its Redis commands, and the
  // balancer of `deno task cluster`.
  "redis-server",
  "redis-cli",
  "nginx",
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
    const status = await within(this.#child.status, "it to exit", ms);
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
      await delay(100);
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
