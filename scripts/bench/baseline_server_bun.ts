/**
 * The benchmark's baseline on Bun: the smallest Bun server that speaks the
 * chat protocol well enough for the load generator, frame for frame what
 * `baseline_server.ts` does on Deno. No validation, no storage, no logging,
 * no error handling: it marks the ceiling of Bun itself.
 *
 * A room is a Bun pub/sub topic: `ws.subscribe(room)` and
 * `server.publish(room, text)`, which hands a frame to every member in
 * native code. That is how the smallest natural Bun chat server is written
 * (Bun's own chat-room benchmark does the same), so it marks Bun's ceiling.
 * Our server publishes the same way (`lib/adapters/bun_fanout.ts`), once a
 * joiner has had its history.
 *
 * Bun runs it as it is, the TypeScript included:
 *
 * ```sh
 * bun scripts/bench/baseline_server_bun.ts --port 0
 * ```
 *
 * @module
 */
import process, { argv } from "node:process";
import { parseArgs } from "node:util";

/** The little of Bun's API used here (`deno check` has no Bun types). */
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request, server: Server): Promise<Response> | undefined;
    websocket: {
      message(ws: Socket, message: string): void;
      close(ws: Socket): void;
    };
  }): Server;
};
interface Server {
  readonly hostname: string;
  readonly port: number;
  upgrade(request: Request, options: { data: Map<string, string> }): boolean;
  publish(topic: string, text: string): number;
}
interface Socket {
  /** The rooms this socket joined, and the name it joined each under. */
  readonly data: Map<string, string>;
  send(text: string): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

const { values } = parseArgs({
  args: argv.slice(2),
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "3000" },
  },
});

const roomsWithMessages = new Set<string>();
let lastId = 0;

/** Stamps a message and publishes it to the room, serialized once. */
function post(room_id: string, from: string, message: string) {
  roomsWithMessages.add(room_id);
  const stored = {
    room_id,
    from,
    message,
    sent_at: (performance.timeOrigin + performance.now()) / 1000,
    id: ++lastId,
  };
  server.publish(
    room_id,
    JSON.stringify({ type: "receive-message", ...stored }),
  );
  return stored;
}

/** Takes a socket out of a room; the members left hear of it. */
function leave(ws: Socket, room_id: string, from: string): string {
  ws.unsubscribe(room_id);
  const text = JSON.stringify({ type: "leave-room", room_id, from });
  server.publish(room_id, text);
  return text;
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

const server = Bun.serve({
  hostname: values.host,
  port: Number(values.port),
  fetch(request, server) {
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      // Bun answers the handshake itself; no Response.
      if (server.upgrade(request, { data: new Map() })) return undefined;
    }
    return handleHttp(request);
  },
  websocket: {
    message(ws, message) {
      const frame = JSON.parse(message);
      const { type, room_id, from } = frame;
      if (type === "send-message") post(room_id, from, frame.message);
      else if (type === "join-room") {
        ws.data.set(room_id, from);
        ws.subscribe(room_id);
        server.publish(room_id, JSON.stringify({ type, room_id, from }));
      } else if (type === "leave-room") {
        ws.send(leave(ws, room_id, ws.data.get(room_id)!));
        ws.data.delete(room_id);
      }
    },
    close(ws) {
      for (const [room_id, from] of ws.data) leave(ws, room_id, from);
    },
  },
});

console.log(`Chat server listening on ${server.hostname}:${server.port}`);

// Exit normally on SIGTERM, so that `--cpu-prof` can write its profile.
process.on("SIGTERM", () => process.exit(0));
