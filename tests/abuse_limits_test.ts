/**
 * The limits that keep one client machine from filling the server: what an
 * IP address may send and store, summed over its connections, and what the
 * store may hold. Over real sockets, on every target.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { tempDir, type TestClient } from "./_helpers.ts";
import { TARGETS } from "./_targets.ts";

const send = (room_id: string, message = "m") => ({
  type: "send-message",
  room_id,
  from: "W",
  message,
});

/** Every frame a client was sent, up to a probe's answer. */
async function repliesOf(clients: TestClient[]) {
  return (await Promise.all(clients.map((c) => c.framesBeforeProbe()))).flat();
}

for (const target of TARGETS) {
  Deno.test(`messages are budgeted per IP address, over all its connections (${target.name})`, async () => {
    await using chat = await target.start({
      "rate-limit": 0,
      "ip-message-rate": 5,
    });
    const clients = [];
    for (let i = 0; i < 3; i++) {
      const client = await chat.connect();
      await client.join("r", `W${i}`);
      clients.push(client);
    }
    for (const client of clients) {
      for (let i = 0; i < 20; i++) client.send(send("r"));
    }
    const frames = await repliesOf(clients);
    const refused = frames.filter((frame) =>
      frame.error ===
        "rate limited: too many messages from 127.0.0.1; retry in 1 s"
    );
    const stored =
      (await chat.post("/receive", { room_id: "r" })).body.messages;
    assert(stored.length <= 12, `${stored.length} stored`);
    assertEquals(refused.length, 60 - stored.length);
    const rest = await chat.post("/send", {
      room_id: "r",
      from: "W",
      message: "m",
    });
    assertEquals(rest.status, 429, "POST /send shares the budget");
  });

  Deno.test(`frames are budgeted per IP address, over all its connections (${target.name})`, async () => {
    await using chat = await target.start({
      "rate-limit": 0,
      "ip-rate-limit": 10,
      "ip-message-rate": 0,
    });
    const clients = [await chat.connect(), await chat.connect()];
    for (const client of clients) {
      for (let i = 0; i < 30; i++) {
        client.send({ type: "leave-room", room_id: "nowhere" });
      }
    }
    // Each frame gets one error: not joined, or over the budget.
    const frames = (await Promise.all(clients.map((c) => c.take(30)))).flat();
    const refused = frames.filter((frame) =>
      frame.error?.startsWith("rate limited: too many frames from 127.0.0.1")
    );
    // A burst of 20 for the address, whichever connection spends it.
    assert(refused.length >= 38 && refused.length <= 40, `${refused.length}`);
  });

  Deno.test(`new rooms are limited per IP address and in total (${target.name})`, async (t) => {
    await using chat = await target.start({
      "ip-room-rate": 1,
      "max-rooms": 3,
    });
    const post = (room_id: string) =>
      chat.post("/send", { room_id, from: "W", message: "m" });

    await t.step(
      "a burst of 2 new rooms a minute from one address",
      async () => {
        assertEquals((await post("a")).status, 200);
        assertEquals((await post("b")).status, 200);
        const refused = await post("c");
        assertEquals(refused.status, 429);
        assert(
          refused.body.error.startsWith(
            "rate limited: too many new rooms from 127.0.0.1; retry in",
          ),
          refused.body.error,
        );
        assert(Number(refused.headers.get("retry-after")) > 1);
        assertEquals(
          (await post("a")).status,
          200,
          "rooms with messages are fine",
        );
      },
    );

    await t.step("over WebSocket too", async () => {
      const client = await chat.connect();
      await client.join("d", "W");
      client.send(send("d"));
      const reply = await client.next();
      assert(reply.error?.startsWith("rate limited: too many new rooms"));
    });
  });

  Deno.test(`the store holds at most --max-rooms rooms (${target.name})`, async () => {
    await using chat = await target.start({ "max-rooms": 2 });
    const post = (room_id: string) =>
      chat.post("/send", { room_id, from: "W", message: "m" });
    assertEquals((await post("a")).status, 200);
    assertEquals((await post("b")).status, 200);
    const refused = await post("c");
    assertEquals([refused.status, refused.body], [503, {
      error:
        "the server holds as many rooms as it may (2): send to a room that has messages",
    }]);
    assertEquals((await post("b")).status, 200);
  });

  Deno.test(`messages are refused while the disk is nearly full (${target.name})`, async () => {
    await using dir = await tempDir();
    // More free space than any disk has: the floor is never met.
    await using chat = await target.start({
      db: `${dir.path}/chat.db`,
      "min-free-disk": "1000T",
    });
    const refused = await chat.post("/send", {
      room_id: "r",
      from: "W",
      message: "m",
    });
    assertEquals([refused.status, refused.body], [503, {
      error: "the server's disk is nearly full: messages cannot be stored now",
    }]);
    const ready = await chat.get("/readyz");
    assertEquals([ready.status, ready.body], [503, {
      error: "the server's disk is nearly full: messages are refused",
    }]);
    const client = await chat.connect();
    await client.join("r", "W");
    client.send(send("r"));
    assertEquals(
      (await client.next()).error,
      "the server's disk is nearly full: messages cannot be stored now",
    );
  });
}
