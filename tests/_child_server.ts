/**
 * Runs `main.ts` as a child process, the way a user starts the server, and
 * finds its address in what it prints.
 *
 * @module
 */
import { within } from "./_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The permissions `deno task start` grants. */
export const START_PERMISSIONS = ["--allow-net", "--allow-env"];

/** A server running in a child process. */
export interface ChildServer extends AsyncDisposable {
  readonly process: Deno.ChildProcess;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Everything printed to stdout so far. */
  readonly output: () => string;
  /** Sends a signal and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Runs `deno run main.ts` with `args` and the output fully collected. */
export async function runMain(args: string[]): Promise<Deno.CommandOutput> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", ...START_PERMISSIONS, MAIN, ...args],
    stdin: "null",
  });
  return await within(command.output(), `main.ts ${args.join(" ")}`, 15_000);
}

/** Starts `main.ts` on 127.0.0.1 and an ephemeral port. */
export async function startChildServer(
  args: string[] = [],
): Promise<ChildServer> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...START_PERMISSIONS,
      MAIN,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...args,
    ],
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
      if (url) listening.resolve(url);
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
    return within(status, "the server to exit", 10_000);
  }

  let wsUrl;
  try {
    wsUrl = await within(listening.promise, "the server to listen", 15_000);
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
    [Symbol.asyncDispose]: async () => void await stop("SIGKILL"),
  };
}
