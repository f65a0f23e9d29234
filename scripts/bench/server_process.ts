import { startRedisServer } from "../_redis_server.ts";
import { terminate } from "../_terminate.ts";
import type { Runtime, ServerCommand } from "./servers.ts";

/**
 * A server running as a child process, or as several instances on one
 * Redis, which it started too.
 */
export interface ServerProcess extends AsyncDisposable {
  /** The command's name: `ours`, `ours (redis)`, `baseline`, `sink`. */
  readonly name: string;
  /** What it runs on. */
  readonly runtime: Runtime;
  /** The (first) process id, to read its memory and CPU time from `/proc`. */
  readonly pid: number;
  /** The (first) port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** Every instance's process id. */
  readonly pids: number[];
  /** Every instance's port: the clients are split across them. */
  readonly ports: number[];
  /** The process id of the Redis the instances share, if any. */
  readonly redisPid?: number;
  /** Stops it: SIGTERM, then SIGKILL if it is still running after 3 s. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startServerProcess}. */
export interface StartOptions {
  /**
   * How long the server may take to print its address.
   * @default {15000}
   */
  timeoutMs?: number;
}

const LISTENING = /listening on (\S+):(\d+)/;
const STOP_GRACE_MS = 3000;

/**
 * Starts a server with `<executable> <args>` and waits until it prints the
 * line `... listening on <host>:<port>`, which gives its port. Its stderr
 * is passed through with the server's runtime and name in front of every
 * line. Our server's setup decides the rest: a new SQLite file in a
 * temporary folder, or a Redis (append-only, fsync every second, as Redis
 * advises for production) that one or two instances share.
 */
export async function startServerProcess(
  command: ServerCommand,
  options: StartOptions = {},
): Promise<ServerProcess> {
  const setup = command.setup ?? "memory";
  const cleanups: (() => Promise<void>)[] = [];
  const instances: ServerProcess[] = [];
  async function stop(): Promise<void> {
    await Promise.all(instances.map((instance) => instance.stop()));
    for (const cleanup of cleanups.splice(0)) await cleanup();
  }
  let args = command.args;
  let redisPid: number | undefined;
  try {
    if (setup === "sqlite") {
      const dir = await Deno.makeTempDir({ prefix: "chat_bench_" });
      cleanups.push(() => Deno.remove(dir, { recursive: true }));
      args = [...args, "--db", `${dir}/bench.db`];
    } else if (setup === "redis" || setup === "redis-x2") {
      const redis = await startRedisServer({
        args: ["--appendonly", "yes", "--appendfsync", "everysec"],
      });
      cleanups.push(() => redis.stop());
      redisPid = redis.pid;
      args = [...args, "--redis", redis.url];
    }
    for (let i = setup === "redis-x2" ? 2 : 1; i > 0; i--) {
      instances.push(await startProcess({ ...command, args }, options));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const [first] = instances;
  return {
    name: command.name,
    runtime: command.runtime,
    pid: first!.pid,
    port: first!.port,
    pids: instances.map((instance) => instance.pid),
    ports: instances.map((instance) => instance.port),
    ...redisPid === undefined ? {} : { redisPid },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Starts one process of a server: see {@linkcode startServerProcess}. */
async function startProcess(
  command: ServerCommand,
  options: StartOptions,
): Promise<ServerProcess> {
  const child = new Deno.Command(command.executable, {
    args: command.args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrDone = forwardLines(
    child.stderr,
    `[${command.runtime} ${command.name}] `,
  );
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdoutDone = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= terminate(child, "SIGTERM", STOP_GRACE_MS).then(() =>
      Promise.all([stdoutDone, stderrDone]).then(() => {})
    );

  let port;
  try {
    port = await readPort(stdout, options.timeoutMs ?? 15_000);
  } catch (error) {
    stdoutDone = stdout.cancel();
    await stop();
    throw new Error(
      `${command.runtime} ${command.name} server did not start: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  if (port === undefined) {
    const { code } = await child.status;
    await stop();
    throw new Error(
      `${command.runtime} ${command.name} server exited with code ${code} before it listened`,
    );
  }
  stdoutDone = drain(stdout);
  return {
    name: command.name,
    runtime: command.runtime,
    pid: child.pid,
    port,
    pids: [child.pid],
    ports: [port],
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Reads stdout until the listening line and returns the port in it, or
 * `undefined` if the process closed its stdout (exited) first.
 */
async function readPort(
  stdout: ReadableStreamDefaultReader<string>,
  timeoutMs: number,
): Promise<number | undefined> {
  let text = "";
  let timer;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no "listening on" line within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    for (;;) {
      const { value, done } = await Promise.race([stdout.read(), timeout]);
      if (done) return undefined;
      text += value;
      const match = LISTENING.exec(text);
      if (match) return Number(match[2]);
    }
  } finally {
    clearTimeout(timer);
  }
}

async function drain(
  reader: ReadableStreamDefaultReader<string>,
): Promise<void> {
  while (!(await reader.read()).done) {
    /* the server has nothing more to say */
  }
}

async function forwardLines(
  stream: ReadableStream<Uint8Array>,
  prefix: string,
): Promise<void> {
  const encoder = new TextEncoder();
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    for (const line of lines) {
      await Deno.stderr.write(encoder.encode(`${prefix}${line}\n`));
    }
  }
  if (rest) await Deno.stderr.write(encoder.encode(`${prefix}${rest}\n`));
}
