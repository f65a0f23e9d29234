/**
 * The benchmark's baseline: the smallest Deno server that speaks the chat
 * protocol well enough for the load generator. No validation, no storage,
 * no logging, no error handling: whatever it reaches in a scenario is the
 * ceiling of the runtime itself, and our server is measured against it.
 *
 * It frames its messages exactly like our server (same fields, same order),
 * so both put the same bytes on the wire.
 *
 * ```sh
 * deno run --allow-net scripts/bench/baseline_server.ts --port 0
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

const rooms = new Map<string, Set<WebSocket>>();
const roomsWithMessages = new Set<string>();
let lastId = 0;

/** Stamps a message and delivers it to the room, serialized once. */
function post(room_id: string, from: string, message: string) {
  roomsWithMessages.add(room_id);
  const stored = {
    room_id,
    from,
    message,
    sent_at: (performance.timeOrigin + performance.now()) / 1000,
    id: ++lastId,
  };
  broadcast(room_id, JSON.stringify({ type: "receive-message", ...stored }));
  return stored;
}

function broadcast(room_id: string, text: string): void {
  for (const member of rooms.get(room_id) ?? []) member.send(text);
}

/** Removes a socket from a room; the members left hear of it. */
function leave(socket: WebSocket, room_id: string, from: string): string {
  const members = rooms.get(room_id);
  members?.delete(socket);
  if (members?.size === 0) rooms.delete(room_id);
  const text = JSON.stringify({ type: "leave-room", room_id, from });
  broadcast(room_id, text);
  return text;
}

function acceptWebSocket(request: Request): Response {
  const { socket, response } = Deno.upgradeWebSocket(request);
  const joined = new Map<string, string>();
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    const { type, room_id, from } = frame;
    if (type === "send-message") post(room_id, from, frame.message);
    else if (type === "join-room") {
      joined.set(room_id, from);
      const members = rooms.get(room_id);
      if (members) members.add(socket);
      else rooms.set(room_id, new Set([socket]));
      broadcast(room_id, JSON.stringify({ type, room_id, from }));
    } else if (type === "leave-room") {
      socket.send(leave(socket, room_id, joined.get(room_id)!));
      joined.delete(room_id);
    }
  };
  socket.onclose = () => {
    for (const [room_id, from] of joined) leave(socket, room_id, from);
  };
  return response;
}

async function handleHttp(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method === "POST" && pathname === "/send") {
    const { room_id, from, message } = await request.json();
    return Response.json(post(room_id, from, message));
  }
  if (request.method === "GET" && pathname === "/rooms") {
    return Response.json({ rooms: [...roomsWithMessages] });
  }
  return Response.json({ error: "Endpoint not found" }, { status: 404 });
}

Deno.serve(
  {
    hostname: values.host,
    port: Number(values.port),
    onListen({ hostname, port }) {
      console.log(`Chat server listening on ${hostname}:${port}`);
    },
  },
  (request) =>
    request.headers.get("upgrade")?.toLowerCase() === "websocket"
      ? acceptWebSocket(request)
      : handleHttp(request),
);

// Exit normally on SIGTERM, so that `--cpu-prof` can write its profile.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
