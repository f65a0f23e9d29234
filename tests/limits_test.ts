import {
  deepStrictEqual as assertEquals,
  rejects as assertRejects,
} from "node:assert/strict";
import { closedBy, readReply, type TestServer, within } from "./_helpers.ts";
import { REDIS_TARGETS, TARGETS } from "./_targets.ts";

/** Asks for a WebSocket upgrade with fetch, to read a refusal's JSON body. */
async function upgradeWith(chat: TestServer, headers: HeadersInit = {}) {
  return readReply(
    await fetch(chat.httpUrl, {
      headers: { upgrade: "websocket", ...headers },
    }),
  );
}

const send = (message: string, room_id = "r") => ({
  type: "send-message",
  room_id,
  from: "W",
  message,
});

for (const target of [...TARGETS, ...REDIS_TARGETS]) {
  Deno.test(`rooms per connection are limited (${target.name})`, async () => {
    await using chat = await target.start({ "max-rooms-per-connection": 2 });
    const client = await chat.connect();
    await client.join("a", "W");
    await client.join("b", "W");
    client.send({ type: "join-room", room_id: "c", from: "W" });
    assertEquals(await client.next(), {
      type: "error",
      error: "You can be in at most 2 rooms at once; leave one first",
    });
    client.send({ type: "leave-room", room_id: "a" });
    await client.next();
    await client.join("c", "W");
  });

  Deno.test(`connections are limited in total (${target.name})`, async () => {
    await using chat = await target.start({ "max-connections": 2 });
    const first = await chat.connect();
    await chat.connect();
    const refused = await upgradeWith(chat);
    assertEquals(refused.status, 503);
    assertEquals(refused.body, {
      error: "server is full: 2 connections are open, try again later",
    });
    await assertRejects(chat.connect());
    await first.close();
    const deadline = Date.now() + 2000;
    while ((await upgradeWith(chat)).status === 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await chat.connect();
  });

  Deno.test(`connections per IP are limited only when asked (${target.name})`, async () => {
    await using chat = await target.start({ "max-connections-per-ip": 1 });
    await chat.connect();
    const refused = await upgradeWith(chat);
    assertEquals(refused.status, 503);
    assertEquals(refused.body, {
      error: "too many connections from 127.0.0.1: at most 1",
    });
  });

  Deno.test(`allowed origins guard WebSocket upgrades (${target.name})`, async (t) => {
    await using chat = await target.start({
      "allowed-origins": ["http://good.example"],
    });

    await t.step("another origin is 403", async () => {
      const refused = await upgradeWith(chat, {
        origin: "http://evil.example",
      });
      assertEquals(refused.status, 403);
      assertEquals(refused.body, {
        error: 'Origin "http://evil.example" may not open a WebSocket here',
      });
    });

    await t.step(
      "a listed origin and a client without Origin may connect",
      async () => {
        const listed = await upgradeWith(chat, {
          origin: "http://good.example",
        });
        assertEquals(
          listed.status,
          400,
          "past the origin check, to the handshake",
        );
        await chat.connect();
      },
    );
  });

  Deno.test(`every frame is rate limited per connection (${target.name})`, async (t) => {
    await using chat = await target.start({
      "rate-limit": 5,
      "flood-timeout": 1,
    });
    const client = await chat.connect();
    await client.join("r", "W");

    await t.step(
      "a burst of twice the rate passes, the rest is refused",
      async () => {
        // The join took one token of the burst of 10.
        for (let i = 0; i < 14; i++) client.send(send(`#${i}`));
        const frames = await client.take(14);
        const refused = frames.filter((frame) => frame.type === "error");
        assertEquals(frames.length - refused.length, 9);
        assertEquals(refused[0], {
          type: "error",
          error:
            "rate limited: send at most 5 frames per second; this one was ignored",
        });
        const stored = await chat.post("/receive", { room_id: "r" });
        assertEquals(stored.body.messages.length, 9);
      },
    );

    await t.step("a client that keeps going is closed with 1008", async () => {
      const deadline = Date.now() + 3000;
      while (
        client.socket.readyState === WebSocket.OPEN && Date.now() < deadline
      ) {
        client.send(send("flood"));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await closedBy(chat, client, 1008, "rate limit exceeded for too long");
    });
  });

  Deno.test(`POST /send is rate limited per IP (${target.name})`, async () => {
    await using chat = await target.start({ "ip-message-rate": 1 });
    const body = { room_id: "r", from: "W", message: "m" };
    assertEquals((await chat.post("/send", body)).status, 200);
    assertEquals((await chat.post("/send", body)).status, 200);
    const limited = await chat.post("/send", body);
    assertEquals(limited.status, 429);
    assertEquals(limited.headers.get("retry-after"), "1");
    assertEquals(limited.body, {
      error: "rate limited: too many messages from 127.0.0.1; retry in 1 s",
    });
    assertEquals(
      (await chat.post("/receive", { room_id: "r" })).body.messages.length,
      2,
    );
  });

  Deno.test(`a frame far over the size limit closes with 1009 (${target.name})`, async () => {
    await using chat = await target.start({ "max-frame-bytes": 1024 });
    const client = await chat.connect();
    client.send("x".repeat(2000));
    assertEquals(
      (await client.next()).error,
      "frame is larger than the limit of 1024 bytes",
    );
    assertEquals(client.socket.readyState <= WebSocket.OPEN, true);
    client.send("x".repeat(5000));
    const closed = await within(client.closed, "the close");
    assertEquals([closed.code, closed.reason], [
      1009,
      "Received too big message",
    ]);
    const deadline = Date.now() + 2000;
    let metrics;
    do metrics = await chat.metrics(); while (
      metrics.get("chat_connections_open") !== 0 && Date.now() < deadline
    );
    assertEquals(
      [
        metrics.get('chat_connections_closed_total{code="1009"}'),
        metrics.get('chat_errors_total{reason="frame_far_too_large"}'),
      ],
      [1, 1],
      "counted alike on every runtime",
    );
  });
}
