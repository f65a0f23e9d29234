/**
 * Runs `main.ts` as a child process, the way a user starts the server, and
 * finds its address in what it prints.
 *
 * @module
 */
import { within } from "./_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The permissions `deno task start` grants. */
export const START_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
];

/** How long a child process may take to start or to end. */
const CHILD_WAIT_MS = 20_000;

/**
 * Arguments that keep a child off port 3000 and, unless the test names a
 * database, off `./data/chat.db`.
 */
function isolated(args: string[]): string[] {
  const store = args.some((arg) => arg.startsWith("--db"))
    ? []
    : ["--db", ":memory:"];
  return ["--host", "127.0.0.1", "--port", "0", ...store, ...args];
}

/** A server running in a child process. */
export interface ChildServer extends AsyncDisposable {
  readonly process: Deno.ChildProcess;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Everything printed to stdout so far. */
  readonly output: () => string;
  /** Sends a signal (SIGKILL to crash it) and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** What a finished `main.ts` printed, and its exit code. */
export interface MainOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `main.ts` with `args` to its end (it must end by itself). */
export async function runMain(args: string[]): Promise<MainOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...START_PERMISSIONS, MAIN, ...isolated(args)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const output = await within(
      child.output(),
      "main.ts to exit",
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

/** Starts `main.ts` on 127.0.0.1 and an ephemeral port. */
export async function startChildServer(
  args: string[] = [],
): Promise<ChildServer> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", ...START_PERMISSIONS, MAIN, ...isolated(args)],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();

  let output = "";
  const listening = Promise.withResolvers<string>();
  const reading = (async () => {
    for await (
      const chunk of process.stdout.pipeThrough(new TextDecoderStream())
    ) {
      output += chunk;
      const url = /WebSocket: (ws:\/\/\S+)/.exec(output)?.[1];
      if (url && output.includes("History:")) listening.resolve(url);
    }
    listening.reject(new Error(`server exited before listening:\n${output}`));
  })();

  let status: Promise<Deno.CommandStatus> | undefined;
  function stop(signal: Deno.Signal = "SIGTERM") {
    if (!status) {
      try {
        process.kill(signal);
      } catch {
        // It has already exited.
      }
      status = Promise.all([process.status, reading]).then(([status]) =>
        status
      );
    }
    return within(status, "the server to exit", CHILD_WAIT_MS);
  }

  let wsUrl;
  try {
    wsUrl = await within(
      listening.promise,
      "the server to listen",
      CHILD_WAIT_MS,
    );
  } catch (error) {
    await stop("SIGKILL");
    throw error;
  }
  return {
    process,
    wsUrl,
    httpUrl: wsUrl.replace("ws://", "http://"),
    output: () => output,
    stop,
    [Symbol.asyncDispose]: async () => void await stop("SIGTERM"),
  };
}
