import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { SERVER_COMMANDS, startChildServer } from "./_child_server.ts";
import { openClient, readReply, type TestClient } from "./_helpers.ts";
import { maskedTextFrame, rawWebSocket } from "./_raw_socket.ts";
import { flagArgs, NO_RATE_LIMITS, TARGETS } from "./_targets.ts";

const MB = 1024 * 1024;

/** The server's resident memory, in bytes, from /proc. */
async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function metric(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
}

/**
 * Sends `count` messages of 4 KB in small batches, each read by `reader`
 * before the next (so a client that does read never falls behind), and
 * returns the names that left the room meanwhile.
 */
async function flood(sender: TestClient, reader: TestClient, count: number) {
  const message = "x".repeat(4000);
  const left: string[] = [];
  let received = 0;
  for (let sent = 0; sent < count;) {
    for (let i = 0; i < 100; i++, sent++) {
      sender.send({
        type: "send-message",
        room_id: "busy",
        from: "Sender",
        message,
      });
    }
    while (received < sent) {
      const frame = await reader.next();
      if (frame.type === "receive-message") received++;
      if (frame.type === "leave-room") left.push(frame.from);
    }
  }
  return left;
}

for (const command of SERVER_COMMANDS) {
  Deno.test(`clients that stop reading are dropped; memory stays bounded (${command.name})`, async () => {
    await using server = await startChildServer(command, [
      ...flagArgs(NO_RATE_LIMITS),
      "--log-level=warn",
    ]);
    const { pid } = server;
    const reader = await openClient(server.wsUrl);
    const sender = await openClient(server.wsUrl);
    const sloths: Deno.TcpConn[] = [];
    try {
      await reader.join("busy", "Reader");
      await sender.join("busy", "Sender");
      await reader.next();

      // The same traffic twice: first with readers only, then with five
      // members that never read. Unbounded, each would hold 24 MB in the server.
      const start = await rssOf(pid);
      await flood(sender, reader, 6000);
      const withoutSloths = (await rssOf(pid)) - start;

      for (let i = 0; i < 5; i++) {
        const sloth = await rawWebSocket(server.wsUrl);
        sloths.push(sloth);
        const join = { type: "join-room", room_id: "busy", from: `Sloth ${i}` };
        await sloth.write(maskedTextFrame(JSON.stringify(join)));
        assertEquals((await reader.next()).from, `Sloth ${i}`);
      }
      const middle = await rssOf(pid);
      const left = await flood(sender, reader, 6000);
      const withSloths = (await rssOf(pid)) - middle;

      assertEquals(left.sort(), [
        "Sloth 0",
        "Sloth 1",
        "Sloth 2",
        "Sloth 3",
        "Sloth 4",
      ]);
      assert(
        withSloths < withoutSloths + 40 * MB,
        `grew ${withSloths / MB} MB with sloths, ${
          withoutSloths / MB
        } MB without`,
      );
      assertEquals(
        await metric(server.httpUrl, "chat_slow_client_closes_total"),
        5,
      );
      const room = await readReply(await fetch(`${server.httpUrl}/rooms/busy`));
      assertEquals(room.body.members, ["Reader", "Sender"]);
    } finally {
      for (const sloth of sloths) sloth.close();
      await reader.close();
      await sender.close();
    }
  });
}

for (const target of TARGETS) {
  Deno.test(`readers that keep up get bursts over the buffer limit; one that stops is closed (${target.name})`, async (t) => {
    await using chat = await target.start({
      ...NO_RATE_LIMITS,
      "join-history": 200,
    });
    const message = "😀".repeat(2500); // 10 KB of UTF-8
    const readers = [await chat.connect(), await chat.connect()];
    for (const [i, reader] of readers.entries()) {
      await reader.join("R", `R${i}`);
    }
    const senders: TestClient[] = [];
    for (let i = 0; i < 4; i++) {
      const sender = await chat.connect();
      await sender.join("R", `S${i}`);
      senders.push(sender);
    }
    const sloth = await rawWebSocket(chat.wsUrl);
    await sloth.write(
      maskedTextFrame(
        JSON.stringify({ type: "join-room", room_id: "R", from: "Sloth" }),
      ),
    );
    const news = (reader: TestClient) => reader.framesBeforeProbe();
    try {
      for (const reader of readers) await news(reader);

      await t.step(
        "4 senders' bursts, 1.5 MB at once, reach every reader",
        async () => {
          for (const sender of senders) {
            for (let i = 0; i < 39; i++) {
              sender.send({
                type: "send-message",
                room_id: "R",
                from: "S",
                message,
              });
            }
          }
          for (const reader of readers) {
            const frames = await reader.take(156);
            assertEquals(
              frames.filter((f) => f.type === "receive-message").length,
              156,
            );
          }
        },
      );

      await t.step(
        "a reader that stops reading is closed with 1013",
        async () => {
          const left = await floodUntilLeft(senders[0]!, readers, message);
          assertEquals(left, "Sloth");
          for (const reader of readers) {
            assertEquals(reader.socket.readyState, WebSocket.OPEN);
          }
        },
      );

      await t.step("a joiner gets 2 MB of recent history", async () => {
        const joiner = await chat.connect();
        const frames = await joiner.join("R", "Late");
        assertEquals(frames.length, 201);
      });

      await t.step("a since resume of 7 MB reaches the reader", async () => {
        const resumer = await chat.connect();
        resumer.send({
          type: "join-room",
          room_id: "R",
          from: "Back",
          since: 0,
        });
        let messages = 0;
        for (;;) {
          const frame = await resumer.next();
          if (frame.type === "receive-message") messages++;
          if (frame.type === "join-room" && frame.from === "Back") break;
        }
        assertEquals(messages, 156 + FLOOD_MESSAGES);
      });
    } finally {
      sloth.close();
    }
  });
}

/** How many messages {@linkcode floodUntilLeft} sends. */
const FLOOD_MESSAGES = 600;

/**
 * Sends {@linkcode FLOOD_MESSAGES} messages in steps that the readers read
 * before the next, and returns who left the room meanwhile.
 */
async function floodUntilLeft(
  sender: TestClient,
  readers: TestClient[],
  message: string,
): Promise<string | undefined> {
  let left: string | undefined;
  for (let sent = 0; sent < FLOOD_MESSAGES; sent += 50) {
    for (let i = 0; i < 50; i++) {
      sender.send({ type: "send-message", room_id: "R", from: "S", message });
    }
    for (const reader of readers) {
      for (let received = 0; received < 50;) {
        const frame = await reader.next();
        if (frame.type === "receive-message") received++;
        if (frame.type === "leave-room") left = frame.from;
      }
    }
  }
  // The sloth is closed once its backlog stayed over the limit for 3 s.
  const deadline = Date.now() + 10_000;
  while (left === undefined && Date.now() < deadline) {
    const frames = await readers[0]!.framesBeforeProbe();
    left = frames.find((frame) => frame.type === "leave-room")?.from;
    if (left === undefined) await new Promise((r) => setTimeout(r, 200));
  }
  return left;
}
