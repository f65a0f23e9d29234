/**
 * The load generator's sparring partner: a server that does as little as a
 * server can, so that whatever rate the load generator reaches against it is
 * the load generator's own ceiling.
 *
 * - A WebSocket client sends a number `n` as text; the sink answers with `n`
 *   copies of one prepared `receive-message` frame, shaped like a real one.
 * - Every HTTP request gets the same small JSON answer.
 *
 * ```sh
 * deno run --allow-net scripts/bench/sink_server.ts --port 0
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "3000" },
  },
});

const FRAME = JSON.stringify({
  type: "receive-message",
  room_id: "room-0",
  from: "client-0",
  message: String(performance.timeOrigin + performance.now()),
  sent_at: (performance.timeOrigin + performance.now()) / 1000,
  id: 1_000_000,
});
const BODY = JSON.stringify({ rooms: ["room-0"] });

Deno.serve({
  hostname: values.host,
  port: Number(values.port),
  onListen({ hostname, port }) {
    console.log(`Sink server listening on ${hostname}:${port}`);
  },
}, (request) => {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response(BODY, {
      headers: { "content-type": "application/json" },
    });
  }
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onmessage = (event) => {
    for (let i = Number(event.data); i > 0; i--) socket.send(FRAME);
  };
  return response;
});
