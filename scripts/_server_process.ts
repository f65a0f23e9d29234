/**
 * The chat server as a child process, the way a user starts it, with what a
 * soak run measures from outside: its memory and its metrics.
 *
 * @module
 */

import { within } from "./_timing.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * The flags that turn every rate limit off, for load that comes far faster
 * than any person sends.
 */
export const NO_RATE_LIMITS: readonly string[] = [
  "--rate-limit=0",
  "--ip-rate-limit=0",
  "--ip-message-rate=0",
  "--ip-room-rate=0",
  "--history-rate-limit=0",
];

/** How long the server may take to start or to stop. */
const START_STOP_MS = 15_000;

/** A chat server running in a child process on 127.0.0.1. */
export interface ServerProcess {
  readonly pid: number;
  /** The port it listens on. */
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Lines the server logged on stderr (warnings and errors). */
  readonly logs: () => string[];
  /** Resolves with the exit code when the process has exited. */
  readonly exited: Promise<number>;
  /** Sends SIGTERM and waits, bounded, for the exit code. */
  stop(): Promise<number>;
}

/** Options of {@linkcode startServerProcess}. */
export interface ServerProcessOptions {
  /**
   * The address to listen on: `::` also listens on IPv6, so that a client
   * on `::1` has an address of its own, apart from those on 127.0.0.1.
   * @default {"127.0.0.1"}
   */
  host?: "127.0.0.1" | "::";
  /** Called with each line the server prints, on stdout or stderr. */
  onLine?: ((line: string) => void) | undefined;
}

/**
 * Starts `main.ts` on an ephemeral port with `args` added. Its URLs are on
 * 127.0.0.1 whatever it listens on.
 */
export async function startServerProcess(
  args: string[],
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-sys=statfs",
      MAIN,
      "--host",
      options.host ?? "127.0.0.1",
      "--port",
      "0",
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stdout = "";
  let stderr = "";
  const fromStdout = new LineSplitter(options.onLine);
  const fromStderr = new LineSplitter(options.onLine);
  const listening = Promise.withResolvers<string>();
  const reading = Promise.all([
    (async () => {
      for await (
        const chunk of child.stdout.pipeThrough(new TextDecoderStream())
      ) {
        stdout += chunk;
        fromStdout.push(chunk);
        const url = /WebSocket: (ws:\/\/\S+)/.exec(stdout)?.[1];
        if (url) listening.resolve(url);
      }
      fromStdout.end();
      listening.reject(new Error(`the server exited:\n${stdout}${stderr}`));
    })(),
    (async () => {
      for await (
        const chunk of child.stderr.pipeThrough(new TextDecoderStream())
      ) {
        stderr += chunk;
        fromStderr.push(chunk);
      }
      fromStderr.end();
    })(),
  ]);

  let stopped: Promise<number> | undefined;
  function stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    stopped ??= (async () => {
      try {
        child.kill(signal);
      } catch {
        // It has exited already.
      }
      const [status] = await Promise.all([child.status, reading]);
      return status.code;
    })();
    return within(stopped, "the server to exit", START_STOP_MS);
  }

  let wsUrl;
  try {
    wsUrl = await within(
      listening.promise,
      "the server to listen",
      START_STOP_MS,
    );
  } catch (error) {
    await stop("SIGKILL");
    throw error;
  }
  const { hostname, port } = new URL(wsUrl);
  const expected = options.host === "::" ? "localhost" : "127.0.0.1";
  if (hostname !== expected) {
    await stop("SIGKILL");
    throw new Error(`the server listens on ${wsUrl}, not on ${expected}`);
  }
  return {
    pid: child.pid,
    port: Number(port),
    wsUrl: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    logs: () => stderr.split("\n").filter((line) => line !== ""),
    exited: reading.then(() => child.status).then((status) => status.code),
    stop: () => stop(),
  };
}

/**
 * The resident memory of a process, in KiB: `VmRSS` in `/proc/<pid>/status`
 * (Linux). Deno lets a script read another process's `/proc` entry only
 * with `--allow-all`, so `cat` reads it, under the `--allow-run` that
 * starting the server needs anyway.
 */
export async function residentKiB(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/status`],
    stderr: "null",
  }).output();
  const status = new TextDecoder().decode(stdout);
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib);
}

/**
 * Reads metrics from `GET /metrics`, each the sum of its series (a labelled
 * counter that counted nothing yet has none: 0).
 */
export async function readMetrics<const N extends string>(
  httpUrl: string,
  names: readonly N[],
): Promise<Record<N, number>> {
  const response = await within(
    fetch(`${httpUrl}/metrics`),
    "GET /metrics",
    START_STOP_MS,
  );
  const text = await response.text();
  const values = {} as Record<N, number>;
  for (const name of names) {
    if (!text.includes(`# TYPE ${name} `)) {
      throw new Error(`no metric ${name} in /metrics`);
    }
    const series = new RegExp(`^${name}(?:\\{.*\\})? (\\S+)$`, "gm");
    let sum = 0;
    for (const [, value] of text.matchAll(series)) sum += Number(value);
    values[name] = sum;
  }
  return values;
}

/** Hands on text chunk by chunk as whole lines. */
class LineSplitter {
  #onLine: ((line: string) => void) | undefined;
  #rest = "";

  constructor(onLine: ((line: string) => void) | undefined) {
    this.#onLine = onLine;
  }

  push(chunk: string): void {
    if (!this.#onLine) return;
    const lines = (this.#rest + chunk).split("\n");
    this.#rest = lines.pop()!;
    for (const line of lines) this.#onLine(line);
  }

  end(): void {
    if (this.#rest) this.#onLine?.(this.#rest);
    this.#rest = "";
  }
}
