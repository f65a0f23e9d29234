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
    onListen({ hostname, port }) {
      const host = hostname === "0.0.0.0" ? "localhost" : hostname;
      console.log(`Chat server listening on ${hostname}:${port}`);
      console.log(`  HTTP:      http://${host}:${port}`);
      console.log(`  WebSocket: ws://${host}:${port}`);
      console.log(`  History:   ${where}`);
    },
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      await server.shutdown();
      Deno.exit(0);
    });
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
