/**
 * The targets the integration suites run against: the server in the test's
 * own process, and as a process started each way a user starts it (the
 * Deno source, the bundle on Bun, the Bun executable). Every target takes
 * the same flags as `deno task start`, and a suite sees a target only from
 * outside: HTTP, WebSocket, `/metrics` and signals.
 *
 * @module
 */
import type { Config } from "../lib/config.ts";
import { parseConfig } from "../lib/config.ts";
import { serverOptions } from "../lib/server_options.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import { startRedisServer } from "../scripts/_redis_server.ts";
import {
  BUN_EXECUTABLE_COMMAND,
  DENO_SOURCE,
  SERVER_COMMANDS,
  type ServerCommand,
  startChildServer,
} from "./_child_server.ts";
import { startServer, type TestServer, testServer } from "./_helpers.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

/** Flags of `deno task start`, by name: `{ "rate-limit": 0 }`. */
export type ServerFlags = {
  [K in keyof Config]?: string | number | readonly string[];
};

/** A way to start the server that the integration suites run against. */
export interface Target {
  /** Shown in test names. */
  name: string;
  /** The runtime the server runs on. */
  runtime: "deno" | "bun";
  /** Starts a fresh server with these flags. */
  start(flags?: ServerFlags): Promise<TestServer>;
}

/**
 * The flags that turn every rate limit off, for tests that send far faster
 * than any person may.
 */
export const NO_RATE_LIMITS: ServerFlags = {
  "rate-limit": 0,
  "ip-rate-limit": 0,
  "ip-message-rate": 0,
  "ip-room-rate": 0,
  "history-rate-limit": 0,
};

/** `{ "rate-limit": 0 }` as `["--rate-limit=0"]`. */
export function flagArgs(flags: ServerFlags): string[] {
  return Object.entries(flags).map(([name, value]) =>
    `--${name}=${Array.isArray(value) ? value.join(",") : value}`
  );
}

/**
 * The server in this process, in memory unless a `db` flag names a file:
 * the quickest target, and the one a debugger reaches.
 */
export const IN_PROCESS: Target = {
  name: "in process, memory",
  runtime: "deno",
  start(flags = {}) {
    const request = parseConfig(
      flagArgs({ db: ":memory:", ...flags }),
      () => undefined,
    );
    if (request.help) throw new TypeError("--help starts no server");
    const { config } = request;
    return startServer({
      ...serverOptions(config),
      store: config.db === ":memory:" ? new MemoryStore() : new SqliteStore({
        path: config.db,
        busyTimeoutMs: config["db-busy-timeout"] * 1000,
      }),
    });
  },
};

/** A target that starts the server as a process, on a new SQLite file. */
export function processTarget(server: ServerCommand): Target {
  return {
    name: server.name,
    runtime: server.runtime,
    async start(flags = {}) {
      const child = await startChildServer(server, [
        "--log-level=warn",
        ...flagArgs(flags),
      ]);
      return testServer(child.wsUrl, async () => {
        const { code } = await child.stop("SIGTERM");
        if (code !== 0) {
          throw new Error(`${server.name} exited with code ${code}`);
        }
      });
    },
  };
}

/**
 * A target that starts the server as a process on a Redis of its own
 * (`--redis`), which stops with it.
 */
export function redisTarget(server: ServerCommand): Target {
  return {
    name: `${server.name}, Redis`,
    runtime: server.runtime,
    async start(flags = {}) {
      const redis = await startRedisServer();
      let child;
      try {
        child = await startChildServer(server, [
          "--redis",
          redis.url,
          "--log-level=warn",
          ...flagArgs(flags),
        ]);
      } catch (error) {
        await redis.stop();
        throw error;
      }
      return testServer(child.wsUrl, async () => {
        const { code } = await child.stop("SIGTERM");
        if (code !== 0) {
          throw new Error(`${server.name} exited with code ${code}`);
        }
      }, () => redis.stop());
    },
  };
}

/**
 * The server on Redis, on Deno and on Bun, for the suites that must hold
 * whatever keeps the history (protocol, errors, history, limits); none
 * when `redis-server` is missing outside CI, which is said loudly.
 */
export const REDIS_TARGETS: Target[] = redisTestsEnabled()
  ? [DENO_SOURCE, BUN_EXECUTABLE_COMMAND].map(redisTarget)
  : [];

/** The server as a process, each way a user starts it. */
export const PROCESS_TARGETS: Target[] = SERVER_COMMANDS.map(processTarget);

/** Every target the integration suites run against. */
export const TARGETS: Target[] = [IN_PROCESS, ...PROCESS_TARGETS];
