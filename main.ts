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
import { ConfigError, helpText, parseConfig } from "./lib/config.ts";

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
  const server = serveChat({
    hostname: config.host,
    port: config.port,
    joinHistory: config["join-history"],
    maxFrameBytes: config["max-frame-bytes"],
    maxBodyBytes: config["max-body-bytes"],
    onListen({ hostname, port }) {
      const host = hostname === "0.0.0.0" ? "localhost" : hostname;
      console.log(`Chat server listening on ${hostname}:${port}`);
      console.log(`  HTTP:      http://${host}:${port}`);
      console.log(`  WebSocket: ws://${host}:${port}`);
    },
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, async () => {
      await server.shutdown();
      Deno.exit(0);
    });
  }
}

if (import.meta.main) startFromCommandLine();
