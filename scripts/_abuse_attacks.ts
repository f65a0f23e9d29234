/**
 * The attacks of `deno task soak --abuse`: what one hostile client machine
 * does to the server, each until its signal aborts. Every attack keeps its
 * own connections and closes all of them when it ends; none waits for the
 * server longer than a few seconds at a time.
 *
 * @module
 */
import { maskedCloseFrame, RawWebSocket } from "./_raw_websocket.ts";
import { delay } from "./_timing.ts";

/** Where the attacker connects from 127.0.0.1. */
export interface AttackTarget {
  port: number;
}

/** One attack: runs until `signal` aborts, then releases what it holds. */
export interface Attack {
  /** A short name for the report. */
  name: string;
  /** What it does, in a few words. */
  what: string;
  run(target: AttackTarget, signal: AbortSignal): Promise<void>;
}

const HOST = "127.0.0.1";
const encoder = new TextEncoder();

/** Runs `count` copies of `loop` until the signal aborts. */
function copies(
  count: number,
  loop: (i: number) => Promise<void>,
): Promise<void> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => loop(i).catch(() => {})),
  ).then(() => {});
}

/** Resolves once `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

/** Opens a TCP connection, or `undefined` if the server would not take it. */
async function connect(port: number): Promise<Deno.TcpConn | undefined> {
  try {
    return await Deno.connect({ hostname: HOST, port });
  } catch {
    return undefined;
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed by the server already.
  }
}

/** Reads and discards until the connection ends. */
async function drain(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16384);
  try {
    while (await conn.read(buffer) !== null) {
      // Discarded.
    }
  } catch {
    // Reset, or closed by the attack.
  }
}

/** Holds raw connections until the signal aborts, then closes them all. */
async function hold(
  conns: Deno.Conn[],
  signal: AbortSignal,
): Promise<void> {
  await aborted(signal);
  for (const conn of conns) closeQuietly(conn);
}

/** `POST /receive` bodies of 64 KB, each sent as 65,536 chunks of 1 byte. */
const chunkedBodies: Attack = {
  name: "chunked bodies",
  what: "2 connections send 64 KB bodies in 1-byte chunks, again and again",
  run: ({ port }, signal) =>
    copies(2, async () => {
      const chunk = encoder.encode("1\r\nx\r\n");
      const bytes = new Uint8Array(chunk.length * 1024);
      for (let i = 0; i < 1024; i++) bytes.set(chunk, i * chunk.length);
      while (!signal.aborted) {
        const conn = await connect(port);
        if (!conn) {
          await delay(100);
          continue;
        }
        const draining = drain(conn);
        try {
          await conn.write(encoder.encode(
            `POST /receive HTTP/1.1\r\nHost: ${HOST}\r\n` +
              "Content-Type: application/json\r\n" +
              "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n",
          ));
          for (let sent = 0; sent < 64 && !signal.aborted; sent++) {
            await conn.write(bytes);
          }
          await conn.write(encoder.encode("1\r\n}\r\n0\r\n\r\n"));
        } catch {
          // The server gave up on the body: that is the point.
        } finally {
          closeQuietly(conn);
          await draining;
        }
      }
    }),
};

/** Idle TCP connections, as many as the server takes and more. */
const idleConnections: Attack = {
  name: "idle connections",
  what: "1100 TCP connections that never send a byte",
  async run({ port }, signal) {
    const conns: Deno.Conn[] = [];
    for (let i = 0; i < 1100 && !signal.aborted; i++) {
      const conn = await connect(port);
      if (conn) conns.push(conn);
    }
    await hold(conns, signal);
  },
};

/** Request heads sent one byte a second. */
const slowloris: Attack = {
  name: "slowloris",
  what: "500 connections send a request head at 1 byte per second",
  async run({ port }, signal) {
    const conns: Deno.Conn[] = [];
    for (let i = 0; i < 500 && !signal.aborted; i++) {
      const conn = await connect(port);
      if (conn) conns.push(conn);
    }
    const head = encoder.encode(
      `GET /rooms HTTP/1.1\r\nHost: ${HOST}\r\nX-Slow: ${"a".repeat(1000)}`,
    );
    for (let i = 0; i < head.length && !signal.aborted; i++) {
      await Promise.all(conns.map(async (conn) => {
        try {
          await conn.write(head.subarray(i, i + 1));
        } catch {
          // Closed by the server's header timeout.
        }
      }));
      await Promise.race([delay(1000), aborted(signal)]);
    }
    await hold(conns, signal);
  },
};

/** Opens a raw WebSocket, or `undefined` if the server refused it. */
async function rawWebSocket(port: number): Promise<RawWebSocket | undefined> {
  try {
    return await RawWebSocket.connect(`ws://${HOST}:${port}`, {
      timeoutMs: 2000,
    });
  } catch {
    return undefined;
  }
}

/** Sends frames from `next` as fast as the connection takes them. */
async function flood(
  port: number,
  signal: AbortSignal,
  next: (i: number) => string,
): Promise<void> {
  while (!signal.aborted) {
    const socket = await rawWebSocket(port);
    if (!socket) {
      await delay(100);
      continue;
    }
    try {
      for (let i = 0; !signal.aborted; i++) await socket.send(next(i));
    } catch {
      // Closed by the server (a flood is closed with 1008): connect again.
    } finally {
      await socket.abort();
    }
  }
}

/** Messages as fast as possible, into rooms old and new. */
const messageFlood: Attack = {
  name: "message flood",
  what: "20 connections send 5000-character messages to new rooms",
  run: ({ port }, signal) =>
    copies(20, (c) => {
      const message = "x".repeat(5000);
      return flood(port, signal, (i) => {
        const room_id = `flood-${c}-${i % 50}`;
        return i % 50 === 0 && i < 50
          ? JSON.stringify({ type: "join-room", room_id, from: "Flood" })
          : JSON.stringify({
            type: "send-message",
            room_id,
            from: "F",
            message,
          });
      });
    }),
};

/** Pages of history asked for and never read. */
const unreadPages: Attack = {
  name: "unread pages",
  what: "100 connections ask POST /receive for a large room, never read",
  async run({ port }, signal) {
    const conns: Deno.Conn[] = [];
    const body = JSON.stringify({ room_id: BIG_ROOM });
    const request = encoder.encode(
      `POST /receive HTTP/1.1\r\nHost: ${HOST}\r\n` +
        "Content-Type: application/json\r\n" +
        `Content-Length: ${body.length}\r\n\r\n${body}`,
    );
    for (let i = 0; i < 100 && !signal.aborted; i++) {
      const conn = await connect(port);
      if (!conn) continue;
      conns.push(conn);
      await conn.write(request).catch(() => {});
    }
    await hold(conns, signal);
  },
};

/** The room the setup fills for {@linkcode unreadPages}. */
export const BIG_ROOM = "abuse-big";

/** Joins and leaves in a loop, in the room the victim is in. */
export function presenceStorm(room: string): Attack {
  return {
    name: "presence storm",
    what: `5 connections join and leave "${room}" in a loop`,
    run: ({ port }, signal) =>
      copies(5, (c) =>
        flood(port, signal, (i) =>
          JSON.stringify(
            i % 2 === 0
              ? { type: "join-room", room_id: room, from: `Storm ${c}` }
              : { type: "leave-room", room_id: room },
          ))),
  };
}

/** WebSockets opened as fast as the server answers, and held. */
const connectionSlots: Attack = {
  name: "connection slots",
  what: "up to 5000 WebSockets opened as fast as possible, and held",
  async run({ port }, signal) {
    const sockets: RawWebSocket[] = [];
    for (let i = 0; i < 5000 && !signal.aborted; i++) {
      const socket = await rawWebSocket(port);
      if (socket) sockets.push(socket);
    }
    await aborted(signal);
    await Promise.all(sockets.map((socket) => socket.abort()));
  },
};

/** Frames the server must refuse: invalid JSON, oversized, half sent. */
const refusedFrames: Attack = {
  name: "refused frames",
  what: "4 connections send invalid and 64 KB frames; 10 stall mid-frame",
  run: ({ port }, signal) =>
    Promise.all([
      copies(4, (c) => {
        const oversized = "x".repeat(65_000);
        return flood(
          port,
          signal,
          (i) => (i + c) % 2 ? "{not json" : oversized,
        );
      }),
      copies(10, async () => {
        const socket = await rawWebSocket(port);
        if (!socket) return;
        // A frame that announces 50 MB, of which 1 MB arrives.
        await socket.sendHead(50 * 1024 * 1024, 1024 * 1024).catch(() => {});
        await aborted(signal);
        await socket.abort();
      }),
    ]).then(() => {}),
};

/** Connections that close with codes of their own choosing. */
const closeCodes: Attack = {
  name: "close codes",
  what: "WebSockets close with random codes from 3000 to 4999",
  run: ({ port }, signal) =>
    copies(4, async () => {
      while (!signal.aborted) {
        const socket = await rawWebSocket(port);
        if (!socket) {
          await delay(50);
          continue;
        }
        const code = 3000 + Math.floor(Math.random() * 2000);
        await socket.write(maskedCloseFrame(code)).catch(() => {});
        await socket.abort();
      }
    }),
};

/** Every attack, in the order the abuse run plays them. */
export function attacks(victimRoom: string): Attack[] {
  return [
    chunkedBodies,
    idleConnections,
    slowloris,
    messageFlood,
    unreadPages,
    presenceStorm(victimRoom),
    connectionSlots,
    refusedFrames,
    closeCodes,
  ];
}
