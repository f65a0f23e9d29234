/**
 * Several server instances on one real `redis-server`, each a child
 * process started as a user starts it (`--redis URL`), for the tests of
 * what must hold across instances; and `deno task cluster` as a process,
 * with nginx in front. `await using` stops them all.
 *
 * ```ts
 * await using cluster = await startCluster({ instances: 3 });
 * const [a, b] = cluster.instances;
 * const ann = await a!.connect();
 * ```
 *
 * @module
 */
import { findNginx } from "../scripts/_nginx.ts";
import {
  type RedisServer,
  type RedisServerOptions,
  startRedisServer,
} from "../scripts/_redis_server.ts";
import {
  type ChildServer,
  DENO_SOURCE,
  type ServerCommand,
  startChildServer,
} from "./_child_server.ts";
import {
  type Frame,
  readMetrics,
  type TestClient,
  type TestServer,
  testServer,
  within,
} from "./_helpers.ts";
import { redisTestsEnabled } from "./_redis_server.ts";
import { flagArgs, NO_RATE_LIMITS, type ServerFlags } from "./_targets.ts";

/** One instance of a cluster: a test server and its process. */
export interface Instance extends TestServer {
  /** The process, to signal or to read its output. */
  readonly child: ChildServer;
  /** SIGKILL, as a crash; its sockets end without a close frame. */
  kill(): Promise<void>;
}

/** Instances on one Redis. */
export interface Cluster extends AsyncDisposable {
  readonly redis: RedisServer;
  readonly instances: Instance[];
}

/** Options of {@linkcode startCluster}. */
export interface ClusterOptions {
  /**
   * How many instances.
   * @default {3}
   */
  instances?: number;
  /** Options of the Redis they share. */
  redis?: RedisServerOptions;
  /**
   * Flags of every instance, after `--redis`.
   * @default {NO_RATE_LIMITS}
   */
  flags?: ServerFlags;
  /**
   * How the instances are started: instance i by `commands[i]`, in turn.
   * @default {[DENO_SOURCE]}
   */
  commands?: ServerCommand[];
}

/** Starts a Redis and the instances on it, side by side. */
export async function startCluster(
  options: ClusterOptions = {},
): Promise<Cluster> {
  const redis = await startRedisServer(options.redis);
  const commands = options.commands ?? [DENO_SOURCE];
  const started = await Promise.allSettled(
    Array.from(
      { length: options.instances ?? 3 },
      (_, i) => startInstance(redis, commands[i % commands.length]!, options),
    ),
  );
  const instances = started.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : []
  );
  async function stop(): Promise<void> {
    try {
      await Promise.all(
        instances.map((instance) => instance[Symbol.asyncDispose]()),
      );
    } finally {
      await redis.stop();
    }
  }
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { redis, instances, [Symbol.asyncDispose]: stop };
}

/** Starts one instance on `redis`, as `command` starts the server. */
export async function startInstance(
  redis: RedisServer,
  command: ServerCommand,
  options: ClusterOptions = {},
): Promise<Instance> {
  const child = await startChildServer(command, [
    "--redis",
    redis.url,
    "--log-level=warn",
    ...flagArgs(options.flags ?? NO_RATE_LIMITS),
  ]);
  let killed = false;
  const server = testServer(child.wsUrl, async () => {
    const { code } = await child.stop("SIGTERM");
    if (!killed && code !== 0) {
      throw new Error(`an instance exited with code ${code}`);
    }
  });
  return {
    ...server,
    child,
    async kill() {
      killed = true;
      await child.stop("SIGKILL");
    },
  };
}

/**
 * The next `count` `receive-message` frames of a client, skipping joins
 * and leaves.
 */
export async function takeMessages(
  client: TestClient,
  count: number,
  ms?: number,
): Promise<Frame[]> {
  const messages = [];
  while (messages.length < count) {
    const frame = await client.next(ms);
    if (frame.type === "error") {
      throw new Error(`error frame: ${frame.error}`);
    }
    if (frame.type === "receive-message") messages.push(frame);
  }
  return messages;
}

/** Every message of a room, read from `instance` page by page. */
export async function readAll(
  instance: TestServer,
  roomId: string,
  limit?: number,
): Promise<Frame[]> {
  const messages: Frame[] = [];
  for (;;) {
    const { body } = await instance.post("/receive", {
      room_id: roomId,
      after: messages.at(-1)?.id ?? 0,
      ...limit === undefined ? {} : { limit },
    });
    messages.push(...body.messages);
    if (!body.has_more) return messages;
  }
}

/** The ids of some messages. */
export function ids(frames: Frame[]): number[] {
  return frames.map((frame) => frame.id);
}

/**
 * Asserts that each instance holds exactly one open WebSocket: the
 * balancer gave each client another instance.
 */
export async function assertOneConnectionEach(
  instances: string[],
): Promise<void> {
  for (const instance of instances) {
    const open = (await readMetrics(instance)).get("chat_connections_open");
    if (open !== 1) {
      throw new Error(`${instance} holds ${open} WebSockets, not 1`);
    }
  }
}

/**
 * Whether the tests of `deno task cluster` run: with redis-server and nginx
 * installed, or in CI, where their absence must fail them.
 */
export function clusterTestsEnabled(): boolean {
  return redisTestsEnabled() && nginxTestsEnabled();
}

/** Whether nginx is there; in CI its absence fails the tests. */
function nginxTestsEnabled(): boolean {
  if (findNginx() || Deno.env.get("CI") === "true") return true;
  console.error(
    "\n!! SKIPPING THE LOAD BALANCER TESTS: no nginx. Install it with: apt-get install -y nginx\n",
  );
  return false;
}

/** The script of `deno task cluster`. */
const CLUSTER_SCRIPT = new URL("../scripts/cluster.ts", import.meta.url);

/** `deno task cluster` running, as its output tells it. */
export interface ClusterScript extends AsyncDisposable {
  /** The balancer, `http://localhost:PORT`. */
  readonly url: string;
  /** The instances, `http://127.0.0.1:PORT`. */
  readonly instances: string[];
  /** The port of the Redis it started. */
  readonly redisPort: number;
  /** What it printed so far. */
  output(): string;
  /** Sends a signal and waits, bounded, for the script to exit. */
  stop(signal: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Runs `deno task cluster` with this many instances, nginx on a free port,
 * until it says it is ready. It is stopped with SIGTERM, so that it stops
 * what it started.
 */
export async function startClusterScript(
  instances: number,
): Promise<ClusterScript> {
  const args = ["--instances", String(instances), "--port", "0"];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-env=PORT",
      CLUSTER_SCRIPT.href,
      ...args,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let output = "";
  const ready = Promise.withResolvers<string>();
  const reading = (async () => {
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      output += chunk;
      const url = /Chat cluster ready: (http:\/\/\S+)/.exec(output)?.[1];
      if (url) ready.resolve(url);
    }
    ready.reject(new Error(`deno task cluster exited:\n${output}`));
  })();
  let exited: Promise<Deno.CommandStatus> | undefined;
  function stop(signal: Deno.Signal) {
    return exited ??= (async () => {
      try {
        child.kill(signal);
      } catch {
        // It has exited already.
      }
      const [status] = await Promise.all([child.status, reading]);
      return status;
    })();
  }
  let url;
  try {
    url = await within(ready.promise, "the cluster to be ready", 30_000);
  } catch (error) {
    await stop("SIGTERM");
    throw error;
  }
  return {
    url,
    instances: [...output.matchAll(/\[instance \d+\]\s+HTTP:\s+(\S+)/g)]
      .map((match) => match[1]!),
    redisPort: Number(
      /Redis:\s+redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1],
    ),
    output: () => output,
    stop: (signal) => within(stop(signal), "deno task cluster to exit", 15_000),
    [Symbol.asyncDispose]: async () => void await stop("SIGTERM"),
  };
}
