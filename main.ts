/**
 * A real-time chat server: the REST API of the original Chat-API plus a
 * WebSocket protocol for rooms, on one port.
 *
 * Start it, then connect from a browser console:
 *
 * ```sh
 * deno task start            # or: deno task start --port 8080
 * ```
 *
 * Messages are kept in `./data/chat.db` (`--db` chooses another file, and
 * `--db :memory:` keeps them in memory only).
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
import { serveChat } from "./lib/adapters/deno_serve.ts";
import {
  type Config,
  ConfigError,
  helpText,
  parseConfig,
} from "./lib/config.ts";
import { MemoryStore } from "./lib/store/memory.ts";
import { SqliteStore } from "./lib/store/sqlite.ts";
import type { MessageStore } from "./lib/store/store.ts";
import { StoreOpenError } from "./lib/store/store_open_error.ts";
import { Logger } from "./lib/logger.ts";

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 4500;

function startFromCommandLine(): void {
  let request;
  try {
    request = parseConfig(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`error: ${error.message}`);
    Deno.exit(2);
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
  const { store, where } = openStore(config);
  const server = serveChat({
    hostname: config.host,
    port: config.port,
    store,
    joinHistory: config["join-history"],
    pageMax: config["page-max"],
    retention: {
      maxPerRoom: config["history-max"] === 0
        ? Infinity
        : config["history-max"],
      maxAgeSeconds: config["history-ttl"] ?? Infinity,
    },
    maxFrameBytes: config["max-frame-bytes"],
    maxBodyBytes: config["max-body-bytes"],
    maxRoomsPerConnection: config["max-rooms-per-connection"],
    maxConnections: config["max-connections"],
    maxConnectionsPerIp: config["max-connections-per-ip"],
    rateLimit: config["rate-limit"],
    maxBufferedBytes: config["max-buffered-bytes"],
    idleTimeoutSeconds: config["idle-timeout"],
    allowedOrigins: config["allowed-origins"],
    logger,
    onListen({ hostname, port }) {
      const host = hostname === "0.0.0.0" ? "localhost" : hostname;
      console.log(`Chat server listening on ${hostname}:${port}`);
      console.log(`  HTTP:      http://${host}:${port}`);
      console.log(`  WebSocket: ws://${host}:${port}`);
      console.log(`  History:   ${where}`);
      logger.info("server.start", { hostname, port, pid: Deno.pid });
    },
  });

  let stopping = false;
  async function stop(signal: Deno.Signal): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info("server.shutdown", { signal });
    const deadline = setTimeout(() => {
      logger.warn("server.shutdown_timeout", { ms: SHUTDOWN_DEADLINE_MS });
      Deno.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    try {
      await server.shutdown();
      logger.info("server.stopped");
    } catch (error) {
      logger.error("server.shutdown_failed", { error });
    }
    clearTimeout(deadline);
    Deno.exit(0);
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
}

/**
 * Opens the store `--db` names; a file that cannot be used ends the process
 * with a message that names it.
 */
function openStore(config: Config): { store: MessageStore; where: string } {
  if (config.db === ":memory:") {
    return {
      store: new MemoryStore(),
      where: "in memory, lost when the server stops (--db :memory:)",
    };
  }
  try {
    const store = new SqliteStore({ path: config.db });
    return { store, where: store.path };
  } catch (error) {
    if (!(error instanceof StoreOpenError)) throw error;
    console.error(`error: ${error.message}`);
    console.error(
      "Choose another file with --db PATH, or --db :memory: to keep messages in memory only.",
    );
    Deno.exit(1);
  }
}

if (import.meta.main) startFromCommandLine();
