/**
 * A real-time chat server: the REST API of the original Chat-API plus a
 * WebSocket protocol for rooms, on one port.
 *
 * Start it, then open http://localhost:3000 and, in that page's browser
 * console, connect:
 *
 * ```sh
 * deno task start            # or: deno task start --port 8080
 * ```
 *
 * Messages are kept in `./data/chat.db` (`--db` chooses another file, and
 * `--db :memory:` keeps them in memory only), or in Redis with
 * `--redis redis://localhost:6379`.
 *
 * ```js
 * const socket = new WebSocket("ws://localhost:3000");
 * socket.onmessage = (event) => console.log(JSON.parse(event.data));
 * socket.onopen = () =>
 *   socket.send(JSON.stringify({ type: "join-room", room_id: "general", from: "Will" }));
 * ```
 *
 * @module
 */
import process from "node:process";
import type {
  ChatServer,
  ServeChatOptions,
} from "./lib/adapters/chat_server.ts";
import { serveChat } from "./lib/adapters/serve_chat.ts";
import {
  type Config,
  ConfigError,
  helpText,
  parseConfig,
} from "./lib/config.ts";
import { listenErrorMessage } from "./lib/listen_error.ts";
import { Logger } from "./lib/logger.ts";
import { ChatMetrics } from "./lib/metrics/chat_metrics.ts";
import { connectionCap, readOpenFileLimit } from "./lib/open_file_limit.ts";
import type { RoomBus } from "./lib/room_bus.ts";
import { serverOptions } from "./lib/server_options.ts";
import { MemoryStore } from "./lib/store/memory.ts";
import { SqliteStore } from "./lib/store/sqlite.ts";
import type { MessageStore } from "./lib/store/store.ts";
import { StoreOpenError } from "./lib/store/store_open_error.ts";
import { RedisUnreachableError } from "./lib/redis/redis_unreachable_error.ts";

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 4500;

// The process is reached through `node:process`, which Deno and Bun both
// provide, so this file runs unchanged on either; `serveChat()` picks the
// runtime's own server.
async function startFromCommandLine(): Promise<void> {
  let request;
  try {
    request = parseConfig(process.argv.slice(2), (name) => process.env[name]);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`error: ${error.message}`);
    process.exit(2);
  }
  if (request.help) {
    console.log(helpText());
    return;
  }
  const { config } = request;
  const logger = new Logger({
    level: config["log-level"],
    format: config["log-format"],
  });
  const metrics = new ChatMetrics();
  const { store, bus, where } = await openStore(config, logger, metrics);
  const options = serverOptions(config);
  const openFileLimit = readOpenFileLimit();
  const maxOpenConnections = options.maxOpenConnections ??
    connectionCap(openFileLimit);
  const server = serveOrExit({
    ...options,
    maxOpenConnections,
    store,
    bus,
    metrics,
    logger,
    onListen({ hostname, port }) {
      // Every address (IPv4's or IPv6's) is reached as localhost here; an
      // IPv6 address goes in brackets in a URL.
      const host = hostname === "0.0.0.0" || hostname === "::"
        ? "localhost"
        : hostname.includes(":")
        ? `[${hostname}]`
        : hostname;
      console.log(`Chat server listening on ${hostname}:${port}`);
      console.log(`  HTTP:      http://${host}:${port}`);
      console.log(`  WebSocket: ws://${host}:${port}`);
      console.log(`  History:   ${where}`);
      logger.info("server.start", {
        hostname,
        port,
        pid: process.pid,
        max_open_connections: maxOpenConnections,
        open_file_limit: openFileLimit ?? "unknown",
      });
    },
  });

  let stopping = false;
  async function stop(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info("server.shutdown", { signal });
    const deadline = setTimeout(() => {
      logger.warn("server.shutdown_timeout", { ms: SHUTDOWN_DEADLINE_MS });
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    try {
      await server.shutdown();
      logger.info("server.stopped");
    } catch (error) {
      logger.error("server.shutdown_failed", { error });
    }
    clearTimeout(deadline);
    process.exit(0);
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => stop(signal));
  }
}

/**
 * Starts the server; a port in use or a host it cannot listen on ends the
 * process with one line that names it, not a stack trace.
 */
function serveOrExit(options: ServeChatOptions): ChatServer {
  try {
    return serveChat(options);
  } catch (error) {
    const message = listenErrorMessage(error, {
      hostname: options.hostname ?? "0.0.0.0",
      port: options.port ?? 3000,
    });
    if (message === undefined) throw error;
    console.error(`error: ${message}`);
    process.exit(1);
  }
}

/**
 * Opens the store `--redis` or `--db` names (with Redis, also the bus that
 * shares the rooms with the other instances); a Redis that cannot be
 * reached, or a file that cannot be used, ends the process with a message
 * that names it.
 */
async function openStore(
  config: Config,
  logger: Logger,
  metrics: ChatMetrics,
): Promise<{ store: MessageStore; bus?: RoomBus; where: string }> {
  if (config.redis !== null) {
    // Loaded only when asked for: without --redis, the Redis client is
    // neither loaded nor started.
    const { openRedis } = await import("./lib/redis/open_redis.ts");
    try {
      return await openRedis({
        url: config.redis,
        maxPerRoom: serverOptions(config).retention?.maxPerRoom ?? Infinity,
        logger,
        metrics,
      });
    } catch (error) {
      if (!(error instanceof RedisUnreachableError)) throw error;
      console.error(`error: ${error.message}`);
      process.exit(1);
    }
  }
  if (config.db === ":memory:") {
    return {
      store: new MemoryStore(),
      where: "in memory, lost when the server stops (--db :memory:)",
    };
  }
  try {
    const store = new SqliteStore({
      path: config.db,
      busyTimeoutMs: config["db-busy-timeout"] * 1000,
    });
    return { store, where: store.path };
  } catch (error) {
    if (!(error instanceof StoreOpenError)) throw error;
    console.error(`error: ${error.message}`);
    console.error(
      "Choose another file with --db PATH, or --db :memory: to keep messages in memory only.",
    );
    process.exit(1);
  }
}

if (import.meta.main) await startFromCommandLine();
