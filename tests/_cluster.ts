/**
 * Several server instances on one real `redis-server`, each a child
 * process started as a user starts it (`--redis URL`), for the tests of
 * what must hold across instances. `await using` stops them all.
 *
 * ```ts
 * await using cluster = await startCluster({ instances: 3 });
 * const [a, b] = cluster.instances;
 * const ann = await a!.connect();
 * ```
 *
 * @module
 */
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
  type TestClient,
  type TestServer,
  testServer,
} from "./_helpers.ts";
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
   * How the instances are started.
   * @default {DENO_SOURCE}
   */
  command?: ServerCommand;
}

/** Starts a Redis and the instances on it, side by side. */
export async function startCluster(
  options: ClusterOptions = {},
): Promise<Cluster> {
  const redis = await startRedisServer(options.redis);
  const started = await Promise.allSettled(
    Array.from(
      { length: options.instances ?? 3 },
      () => startInstance(redis, options),
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

/** Starts one instance on `redis`. */
export async function startInstance(
  redis: RedisServer,
  options: ClusterOptions = {},
): Promise<Instance> {
  const child = await startChildServer(options.command ?? DENO_SOURCE, [
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
