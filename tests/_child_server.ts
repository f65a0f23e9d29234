/**
 * The server as a child process, started the ways a user starts it: the
 * Deno source (`deno task start`), the bundle on Bun (`deno task start:bun`)
 * and the compiled Bun executable (`deno task compile:bun`). Each is a
 * {@linkcode ServerCommand}; the tests add the same flags to any of them
 * and find the address in what the server prints.
 *
 * @module
 */
import { compileWithBun, findBun } from "../scripts/bun_build.ts";
import { within } from "./_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The permissions `deno task start` grants. */
export const START_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys=statfs",
];

/** How long a child process may take to start or to end. */
const CHILD_WAIT_MS = 20_000;

/** A way to start the server as a process, to which flags are added. */
export interface ServerCommand {
  /** Shown in test names. */
  name: string;
  /** The runtime it starts. */
  runtime: "deno" | "bun";
  /** The program and its arguments, built first if need be. */
  command(): Promise<string[]>;
}

/**
 * Where the test run builds the Bun targets, once per run (git-ignored), in
 * a folder of their own so that a server started from `dist/` keeps
 * running.
 */
const TEST_BUILD = new URL("../dist/test/", import.meta.url).pathname;

let built: Promise<{ bun: string }> | undefined;

/**
 * Builds the bundle and the Bun executable as `deno task compile:bun` does.
 * The first test to need them waits for the build (a few seconds).
 *
 * Test files run in parallel, each in an isolate of its own in this one
 * process: the first to take the lock builds, and the others find the
 * build of this process done when they get it. (Building it again while
 * another test starts it fails with "Text file busy".)
 */
function buildForBun(): Promise<{ bun: string }> {
  return built ??= (async () => {
    await Deno.mkdir(TEST_BUILD, { recursive: true });
    const bun = await findBun();
    using lock = await Deno.open(`${TEST_BUILD}build.lock`, {
      write: true,
      create: true,
    });
    await lock.lock(true);
    const stamp = `${TEST_BUILD}built-by`;
    const thisRun = await runId();
    const builtBy = await Deno.readTextFile(stamp).catch(() => "");
    if (builtBy !== thisRun) {
      await compileWithBun(
        `${TEST_BUILD}chat-server-bun`,
        `${TEST_BUILD}chat-server.js`,
      );
      await Deno.writeTextFile(stamp, thisRun);
    }
    await lock.unlock();
    return { bun };
  })();
}

/** Tells this test process from any other: its id and start time. */
async function runId(): Promise<string> {
  const stat = await Deno.readTextFile(`/proc/${Deno.pid}/stat`).catch(
    () => "",
  );
  // The start time is the 22nd field, counted after the command's ")".
  const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  return `${Deno.pid} ${started ?? ""}`;
}

/** `deno run main.ts`, as `deno task start` runs it. */
export const DENO_SOURCE: ServerCommand = {
  name: "Deno, main.ts",
  runtime: "deno",
  command: () =>
    Promise.resolve([Deno.execPath(), "run", ...START_PERMISSIONS, MAIN]),
};

/** The `deno bundle` of `main.ts` on Bun, as `deno task start:bun` runs it. */
export const BUN_BUNDLE: ServerCommand = {
  name: "Bun, bundle",
  runtime: "bun",
  async command() {
    const { bun } = await buildForBun();
    return [bun, `${TEST_BUILD}chat-server.js`];
  },
};

/** The standalone executable of `deno task compile:bun`. */
export const BUN_EXECUTABLE_COMMAND: ServerCommand = {
  name: "Bun, executable",
  runtime: "bun",
  async command() {
    await buildForBun();
    return [`${TEST_BUILD}chat-server-bun`];
  },
};

/** Every way the tests start the server as a process. */
export const SERVER_COMMANDS: ServerCommand[] = [
  DENO_SOURCE,
  BUN_BUNDLE,
  BUN_EXECUTABLE_COMMAND,
];

/**
 * Arguments that keep a child off port 3000 and, unless the test names a
 * database or Redis, off `./data/chat.db`.
 */
function isolated(args: string[], db: string): string[] {
  const named = args.some((arg) => /^--(db|redis)\b/.test(arg));
  const store = named ? [] : ["--db", db];
  return ["--host", "127.0.0.1", "--port", "0", ...store, ...args];
}

/** A server running in a child process. */
export interface ChildServer extends AsyncDisposable {
  readonly pid: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Everything printed to stdout so far. */
  readonly output: () => string;
  /** Everything printed to stderr so far (it is shown as well). */
  readonly errors: () => string;
  /** Sends a signal (SIGKILL to crash it) and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** What a finished server printed, and its exit code. */
export interface ProcessOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the server with `args` to its end (it must end by itself). */
export async function runToEnd(
  server: ServerCommand,
  args: string[],
): Promise<ProcessOutput> {
  const [command, ...before] = await server.command();
  const child = new Deno.Command(command!, {
    args: [...before, ...isolated(args, ":memory:")],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const output = await within(
      child.output(),
      `${server.name} to exit`,
      CHILD_WAIT_MS,
    );
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    throw error;
  }
}

/**
 * Starts the server on 127.0.0.1 and an ephemeral port, with an SQLite file
 * in a temporary folder unless `args` name a `--db`.
 */
export async function startChildServer(
  server: ServerCommand,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const [command, ...before] = await server.command();
  const dir = await Deno.makeTempDir({ prefix: "chat_test_" });
  const child = new Deno.Command(command!, {
    args: [...before, ...isolated(args, `${dir}/chat.db`)],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let errors = "";
  const readingErrors = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      errors += decoder.decode(chunk, { stream: true });
      await Deno.stderr.write(chunk);
    }
  })();
  let output = "";
  const listening = Promise.withResolvers<string>();
  const reading = (async () => {
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      output += chunk;
      const url = /WebSocket: (ws:\/\/\S+)/.exec(output)?.[1];
      if (url && output.includes("History:")) listening.resolve(url);
    }
    listening.reject(new Error(`server exited before listening:\n${output}`));
  })();

  let status: Promise<Deno.CommandStatus> | undefined;
  function stop(signal: Deno.Signal = "SIGTERM") {
    status ??= (async () => {
      try {
        child.kill(signal);
      } catch {
        // It has already exited.
      }
      const [status] = await Promise.all([
        child.status,
        reading,
        readingErrors,
      ]);
      await Deno.remove(dir, { recursive: true });
      return status;
    })();
    return within(status, `${server.name} to exit`, CHILD_WAIT_MS);
  }

  let wsUrl;
  try {
    wsUrl = await within(
      listening.promise,
      `${server.name} to listen`,
      CHILD_WAIT_MS,
    );
  } catch (error) {
    await stop("SIGKILL");
    throw error;
  }
  return {
    pid: child.pid,
    wsUrl,
    httpUrl: wsUrl.replace("ws://", "http://"),
    output: () => output,
    errors: () => errors,
    stop,
    [Symbol.asyncDispose]: async () => void await stop("SIGTERM"),
  };
}
