/**
 * What a hostile or unlucky client does to one connection's life, over real
 * sockets on every target: closes racing the frames it queued, joins and
 * leaves in a loop, frames measured in bytes.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import {
  FrameReader,
  maskedCloseFrame,
  maskedTextFrame,
  rawWebSocket,
  writeAll,
} from "./_raw_socket.ts";
import { closedBy, type TestServer, within } from "./_helpers.ts";
import { NO_RATE_LIMITS, TARGETS } from "./_targets.ts";

const TRIES = 20;

function concat(...parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(
    parts.reduce((sum, part) => sum + part.length, 0),
  );
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

const frame = (value: object) => maskedTextFrame(JSON.stringify(value));

/**
 * Waits until the server has `open` connections open (or `ms` passed), then
 * reads the metrics.
 */
async function settledMetrics(chat: TestServer, open = 0, ms = 5000) {
  const deadline = Date.now() + ms;
  let metrics;
  do {
    metrics = await chat.metrics();
    if (metrics.get("chat_connections_open") === open) return metrics;
    await new Promise((resolve) => setTimeout(resolve, 20));
  } while (Date.now() < deadline);
  return metrics;
}

for (const target of TARGETS) {
  Deno.test(`a close racing queued frames leaves no member behind (${target.name})`, async () => {
    await using chat = await target.start(NO_RATE_LIMITS);
    for (let i = 0; i < TRIES; i++) {
      const conn = await rawWebSocket(chat.wsUrl);
      try {
        const reader = new FrameReader(conn);
        await writeAll(
          conn,
          frame({ type: "join-room", room_id: "A", from: "G" }),
        );
        let reply;
        do reply = await reader.nextText(); while (reply?.type !== "join-room");
        // One TCP write: a send that waits for the store, a join, and a
        // close frame; or the same without a close frame, and the
        // connection dropped at once (runtimes see each sooner).
        const frames = [
          frame({
            type: "send-message",
            room_id: "A",
            from: "G",
            message: "m",
          }),
          frame({ type: "join-room", room_id: `B${i}`, from: "G" }),
        ];
        if (i % 2 === 0) {
          await writeAll(conn, concat(...frames, maskedCloseFrame(1000)));
          while (await within(reader.next(), "the close") !== null) {
            // Whatever the server sent before its close.
          }
        } else await writeAll(conn, concat(...frames));
      } finally {
        conn.close();
      }
    }
    const metrics = await settledMetrics(chat);
    assertEquals(
      [metrics.get("chat_connections_open"), metrics.get("chat_room_members")],
      [0, 0],
    );
    for (let i = 0; i < TRIES; i++) {
      assertEquals((await chat.get(`/rooms/B${i}`)).status, 404);
    }
  });

  Deno.test(`a joiner closed while its history is sent is never announced (${target.name})`, async () => {
    await using chat = await target.start({
      ...NO_RATE_LIMITS,
      "join-history": 1000,
    });
    const watcher = await chat.connect();
    await watcher.join("R", "Watcher");
    const sender = await chat.connect();
    await sender.join("R", "Sender");
    // 15 MB of history: more than the kernel's buffers and the limit hold.
    // (Sent in steps that the two members read, as they would.)
    const message = "€".repeat(5000);
    for (let step = 0; step < 25; step++) {
      for (let i = 0; i < 40; i++) {
        sender.send({ type: "send-message", room_id: "R", from: "S", message });
      }
      await sender.take(40);
      await watcher.take(step === 0 ? 41 : 40);
    }
    const sloth = await rawWebSocket(chat.wsUrl);
    try {
      await writeAll(
        sloth,
        frame({ type: "join-room", room_id: "R", from: "Sloth" }),
      );
      // The grace period of a slow reader is 3 s.
      const metrics = await settledMetrics(chat, 2, 10_000);
      assertEquals(metrics.get("chat_connections_open"), 2);
      assertEquals(metrics.get("chat_slow_client_closes_total"), 1);
    } finally {
      sloth.close();
    }
    const about = (await watcher.framesBeforeProbe()).filter((frame) =>
      frame.from === "Sloth"
    ).map((frame) => frame.type);
    assert(
      about.length === 0 ||
        JSON.stringify(about) === '["join-room","leave-room"]',
      `the room heard ${JSON.stringify(about)}`,
    );
    assertEquals((await chat.get("/rooms/R")).body.members, [
      "Watcher",
      "Sender",
    ]);
  });

  Deno.test(`join-room and leave-room spend from the connection's budget (${target.name})`, async () => {
    await using chat = await target.start({ "rate-limit": 20 });
    const watcher = await chat.connect();
    await watcher.join("R", "Watcher");
    const looper = await chat.connect();
    for (let i = 0; i < 500; i++) {
      looper.send({ type: "join-room", room_id: "R", from: `Spam ${i}` });
      looper.send({ type: "leave-room", room_id: "R" });
    }
    await closedBy(chat, looper, 1008, "rate limit exceeded for too long");
    const refused = looper.received().filter((reply) =>
      reply.error?.startsWith("rate limited")
    ).length;
    const presence = await watcher.framesBeforeProbe();
    // A burst of 40 frames, and what a second of the rate adds at most.
    assert(presence.length <= 60, `${presence.length} presence frames`);
    // Closed after 10 times its burst in refused frames, long before the
    // flood timeout of 10 seconds; the frames it sent after are dropped.
    assert(refused <= 400, `${refused} refused`);
  });

  Deno.test(`a frame is measured in bytes: 300 KB of "€" closes with 1009 (${target.name})`, async () => {
    await using chat = await target.start();
    const client = await chat.connect();
    // 100,020 characters, 300,060 bytes: over 4 times the 64 KiB limit.
    client.send(
      JSON.stringify({
        type: "send-message",
        room_id: "r",
        from: "W",
        message: "€".repeat(100_000),
      }),
    );
    const closed = await within(client.closed, "the close");
    assertEquals([closed.code, closed.reason], [
      1009,
      "Received too big message",
    ]);
  });
}
