/**
 * Connections that never send a complete request: silent ones, request
 * heads sent a byte at a time, stalled WebSocket handshakes and idle
 * keep-alive connections are closed after the header timeout, on every
 * target, and count against their address's connection limit until then.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { readReply } from "./_helpers.ts";
import { closedWithin } from "./_raw_socket.ts";
import { TARGETS } from "./_targets.ts";

/** Connects to the server at `httpUrl` over plain TCP. */
function connect(httpUrl: string): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(httpUrl);
  return Deno.connect({ hostname, port: Number(port) });
}

const encoder = new TextEncoder();

/**
 * Sends `text` and then one more byte every 100 ms, as a slowloris client
 * does, until `signal` aborts or the server closes the connection.
 */
async function trickle(conn: Deno.TcpConn, text: string, signal: AbortSignal) {
  try {
    await conn.write(encoder.encode(text));
    while (!signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await conn.write(encoder.encode("a"));
    }
  } catch {
    // Closed by the server.
  }
}

for (const target of TARGETS) {
  Deno.test(`connections that send no complete request are closed after the header timeout (${target.name})`, async () => {
    await using chat = await target.start({ "header-timeout": 1 });
    // Bun closes a connection that has sent no complete request head after
    // about 10 s of its own, whatever the flag says, and one idle between
    // requests after about 4 s.
    const bound = target.runtime === "bun" ? 16_000 : 4_000;
    const member = await chat.connect();
    await member.join("r", "Member");

    const silent = await connect(chat.httpUrl);
    const slowloris = await connect(chat.httpUrl);
    const handshake = await connect(chat.httpUrl);
    const keepAlive = await connect(chat.httpUrl);
    const trickling = new AbortController();
    const writers = [
      trickle(
        slowloris,
        "GET /rooms HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        trickling.signal,
      ),
      trickle(
        handshake,
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
        trickling.signal,
      ),
    ];
    try {
      await keepAlive.write(
        encoder.encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
      );
      const answer = new Uint8Array(4096);
      const read = await keepAlive.read(answer);
      assert(
        new TextDecoder().decode(answer.subarray(0, read ?? 0))
          .startsWith("HTTP/1.1 200"),
      );

      const waited = await Promise.all(
        [silent, slowloris, handshake, keepAlive].map((conn) =>
          closedWithin(conn, bound)
        ),
      );
      for (const ms of waited) {
        assert(ms >= 900, `closed after ${ms} ms, before the timeout`);
      }
      assertEquals(
        member.socket.readyState,
        WebSocket.OPEN,
        "a WebSocket stays",
      );
      await member.join("s", "Member");
    } finally {
      trickling.abort();
      await Promise.all(writers);
      for (const conn of [silent, slowloris, handshake, keepAlive]) {
        conn.close();
      }
    }
  });

  if (target.runtime === "deno") {
    Deno.test(`connections with no request yet count against their address's limit (${target.name})`, async () => {
      await using chat = await target.start({
        "header-timeout": 1,
        "max-connections-per-ip": 3,
        "log-level": "error",
      });
      const silent = await Promise.all(
        [1, 2, 3].map(() => connect(chat.httpUrl)),
      );
      try {
        // Accepted in turn: wait until the server has seen all three.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const refused = await readReply(await fetch(`${chat.httpUrl}/healthz`));
        assertEquals([refused.status, refused.body], [503, {
          error: "too many connections from 127.0.0.1: at most 3",
        }]);
        await Promise.all(silent.map((conn) => closedWithin(conn, 4000)));
        assertEquals((await chat.get("/healthz")).status, 200);
      } finally {
        for (const conn of silent) conn.close();
      }
    });
  }
}
