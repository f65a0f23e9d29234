/**
 * Behind a reverse proxy every client arrives from the proxy's address:
 * with `--trust-proxy`, every per-IP rule (message budgets, WebSocket
 * connections per IP) counts the address the proxy names in
 * `X-Forwarded-For`, and a client that is not a trusted proxy cannot forge
 * it.
 *
 * @module
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { TestServer } from "./_helpers.ts";
import { rawWebSocket } from "./_raw_socket.ts";
import { TARGETS } from "./_targets.ts";

function sendAs(chat: TestServer, forwardedFor: string) {
  return chat.post("/send", { room_id: "r", from: "W", message: "m" }, {
    "content-type": "application/json",
    "x-forwarded-for": forwardedFor,
  });
}

/** Opens a raw WebSocket as `forwardedFor`; the refusal's status line if refused. */
async function connectAs(wsUrl: string, forwardedFor: string) {
  try {
    return await rawWebSocket(wsUrl, [`X-Forwarded-For: ${forwardedFor}`]);
  } catch (error) {
    return (error as Error).message;
  }
}

for (const target of TARGETS) {
  Deno.test(`--trust-proxy: per-IP rules count the forwarded client (${target.name})`, async (t) => {
    await using chat = await target.start({
      "trust-proxy": ["127.0.0.1", "10.0.0.0/8"],
      "ip-message-rate": 1,
      "max-connections-per-ip": 1,
    });

    await t.step(
      "POST /send's message budget, per forwarded client",
      async () => {
        assertEquals((await sendAs(chat, "203.0.113.1")).status, 200);
        assertEquals((await sendAs(chat, "203.0.113.1")).status, 200);
        const refused = await sendAs(chat, "198.51.100.7, 203.0.113.1");
        assertEquals(refused.status, 429);
        assertEquals(
          refused.body.error,
          "rate limited: too many messages from 203.0.113.1; retry in 1 s",
        );
        // Another client behind the same proxy is not held back.
        assertEquals((await sendAs(chat, "203.0.113.2")).status, 200);
        // Through a second trusted proxy, the same client still.
        const twice = await sendAs(chat, "203.0.113.1, 10.0.0.3");
        assertEquals(twice.status, 429);
      },
    );

    await t.step("WebSocket connections per forwarded client", async () => {
      const first = await connectAs(chat.wsUrl, "203.0.113.5");
      try {
        assertEquals(typeof first, "object");
        assertEquals(
          await connectAs(chat.wsUrl, "203.0.113.5"),
          "handshake refused: HTTP/1.1 503 Service Unavailable",
        );
        const other = await connectAs(chat.wsUrl, "203.0.113.6");
        assertEquals(typeof other, "object");
        (other as Deno.TcpConn).close();
      } finally {
        if (typeof first === "object") first.close();
      }
    });
  });

  Deno.test(`without --trust-proxy, X-Forwarded-For is ignored (${target.name})`, async () => {
    await using chat = await target.start({ "ip-message-rate": 1 });
    assertEquals((await sendAs(chat, "203.0.113.1")).status, 200);
    assertEquals((await sendAs(chat, "203.0.113.2")).status, 200);
    const refused = await sendAs(chat, "203.0.113.3");
    assertEquals(refused.status, 429);
    assertEquals(
      refused.body.error,
      "rate limited: too many messages from 127.0.0.1; retry in 1 s",
    );
  });
}
