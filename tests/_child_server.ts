/**
 * The chat server in a child process, started through `main.ts` as a user
 * starts it, for the tests that kill it or read what it prints.
 *
 * @module
 */
import { within } from "./_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** How long a child process may take to start or to end. */
const CHILD_WAIT_MS = 20_000;

function command(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      MAIN,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** A running child server. Disposal stops it with SIGTERM. */
export interface ChildServer extends AsyncDisposable {
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** What the server has printed on stdout. */
  readonly stdout: string;
  /** Kills the process with SIGKILL, as a crash would, and waits for it. */
  kill(): Promise<void>;
}

/** Starts `main.ts` with `args` and waits until it prints its URLs. */
export async function startChildServer(args: string[]): Promise<ChildServer> {
  const child = command(args).spawn();
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  const started = Promise.withResolvers<string>();
  const reading = (async () => {
    for await (
      const text of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      stdout += text;
      const url = /HTTP: +(http:\/\/\S+)/.exec(stdout)?.[1];
      if (url && stdout.includes("History:")) started.resolve(url);
    }
    started.reject(new Error("the server exited before it listened"));
  })();

  async function stop(signal: Deno.Signal): Promise<void> {
    try {
      child.kill(signal);
    } catch {
      // It has already exited.
    }
    await within(child.status, "the server to exit", CHILD_WAIT_MS);
    await reading;
    await stderr;
  }

  let httpUrl;
  try {
    httpUrl = await within(
      started.promise,
      "the server to listen",
      CHILD_WAIT_MS,
    );
  } catch (error) {
    await stop("SIGKILL");
    throw new Error(`${(error as Error).message}\n${await stderr}`);
  }
  return {
    httpUrl,
    wsUrl: httpUrl.replace(/^http/, "ws"),
    get stdout() {
      return stdout;
    },
    kill: () => stop("SIGKILL"),
    [Symbol.asyncDispose]: () => stop("SIGTERM"),
  };
}

/** Runs `main.ts` with `args` to its end (it must end by itself). */
export async function runMain(args: string[]): Promise<{
  code: number;
  stdout: string;
  stderr: string;
}> {
  const child = command(args).spawn();
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
