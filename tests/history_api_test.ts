import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { unixSeconds } from "../lib/clock.ts";
import {
  type Frame,
  startServer,
  startSqliteServer,
  type TestServer,
} from "./_helpers.ts";
import { NO_RATE_LIMITS, REDIS_TARGETS, TARGETS } from "./_targets.ts";

/** Sends messages over REST, one after another; returns their ids. */
async function send(chat: TestServer, roomId: string, texts: string[]) {
  const ids: number[] = [];
  for (const message of texts) {
    const reply = await chat.post("/send", {
      room_id: roomId,
      from: "A",
      message,
    });
    ids.push(reply.body.id);
  }
  return ids;
}

const texts = (count: number, prefix = "m") =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}`);

const messagesOf = (frames: Frame[]) =>
  frames.filter((frame) => frame.type === "receive-message")
    .map((frame) => frame.message);

for (const target of [...TARGETS, ...REDIS_TARGETS]) {
  Deno.test(`POST /receive pages (${target.name})`, async (t) => {
    await using chat = await target.start({ "page-max": 4 });
    const ids = await send(chat, "r", texts(7));
    await send(chat, "other", ["elsewhere"]);
    const receive = async (body: object) => {
      const reply = await chat.post("/receive", { room_id: "r", ...body });
      assertEquals(reply.status, 200, JSON.stringify(reply.body));
      return {
        messages: reply.body.messages.map((m: Frame) => m.message),
        has_more: reply.body.has_more,
      };
    };

    await t.step("a seed request gets the newest, up to the cap", async () => {
      const reply = await chat.post("/receive", { room_id: "r" });
      assertEquals(Object.keys(reply.body), [
        "room_id",
        "messages",
        "has_more",
      ]);
      assertEquals(reply.body.messages[0], {
        room_id: "r",
        from: "A",
        message: "m3",
        sent_at: reply.body.messages[0].sent_at,
        id: ids[3],
      });
      assertEquals(await receive({}), {
        messages: ["m3", "m4", "m5", "m6"],
        has_more: true,
      });
    });

    await t.step("limit takes fewer, the newest", async () => {
      assertEquals(await receive({ limit: 2 }), {
        messages: ["m5", "m6"],
        has_more: true,
      });
    });

    await t.step("limit above the cap gets the cap", async () => {
      assertEquals((await receive({ limit: 1000 })).messages.length, 4);
    });

    await t.step("before pages backwards", async () => {
      assertEquals(await receive({ before: ids[3], limit: 2 }), {
        messages: ["m1", "m2"],
        has_more: true,
      });
      assertEquals(await receive({ before: ids[1] }), {
        messages: ["m0"],
        has_more: false,
      });
    });

    await t.step("after pages forwards, without gaps or repeats", async () => {
      const pages = [];
      let after = 0;
      for (;;) {
        const reply = await chat.post("/receive", {
          room_id: "r",
          after,
          limit: 3,
        });
        const messages: Frame[] = reply.body.messages;
        pages.push(messages.map((message) => message.message));
        if (!reply.body.has_more) break;
        after = messages.at(-1)!.id;
      }
      assertEquals(pages, [["m0", "m1", "m2"], ["m3", "m4", "m5"], ["m6"]]);
    });

    await t.step("after and before bound a range", async () => {
      assertEquals(await receive({ after: ids[1], before: ids[5] }), {
        messages: ["m2", "m3", "m4"],
        has_more: false,
      });
    });
  });

  Deno.test(`POST /receive refuses bad paging fields (${target.name})`, async (t) => {
    await using chat = await target.start();
    const cases: [object, string][] = [
      [{ limit: 0 }, "limit must be from 1 to 1000"],
      [{ limit: 1001 }, "limit must be from 1 to 1000"],
      [{ limit: 2.5 }, "limit must be a whole number"],
      [{ limit: "10" }, "limit must be a number"],
      [{ limit: null }, "limit must be a number"],
      [{ before: -1 }, "before must not be negative"],
      [{ after: "5" }, "after must be a message id (a number)"],
      [{ after: 1.5 }, "after must be a whole number"],
      [{ after: 5, before: 5 }, "after must be less than before"],
      [{ since: 3 }, 'unknown field "since"'],
    ];
    for (const [fields, error] of cases) {
      await t.step(JSON.stringify(fields), async () => {
        const reply = await chat.post("/receive", { room_id: "r", ...fields });
        assertEquals([reply.status, reply.body], [400, { error }]);
      });
    }
  });

  Deno.test(`WebSocket join-room with since (${target.name})`, async (t) => {
    await using chat = await target.start({ "page-max": 3 });
    const ids = await send(chat, "r", texts(5));

    const cases: [string, number, string[]][] = [
      ["replays exactly the messages after it", ids[2]!, ["m3", "m4"]],
      ["replays nothing when nothing is newer", ids[4]!, []],
    ];
    for (const [what, since, expected] of cases) {
      await t.step(what, async () => {
        const client = await chat.connect();
        client.send({ type: "join-room", room_id: "r", from: "B", since });
        const frames = await client.take(expected.length + 1);
        assertEquals(messagesOf(frames), expected);
        assertEquals(frames.at(-1), {
          type: "join-room",
          room_id: "r",
          from: "B",
        });
        await client.close();
      });
    }

    await t.step(
      "replays at most a page, the newest, and says so",
      async () => {
        const client = await chat.connect();
        client.send({ type: "join-room", room_id: "r", from: "B", since: 0 });
        const frames = await client.take(5);
        assertEquals(frames[0], {
          type: "history-gap",
          room_id: "r",
          after: 0,
          before: ids[2],
        });
        assertEquals(messagesOf(frames), ["m2", "m3", "m4"]);
        assertEquals(frames.at(-1)?.type, "join-room");
        await client.close();
      },
    );

    await t.step("must be a message id", async () => {
      const client = await chat.connect();
      for (
        const [since, error] of [
          [-1, "since must not be negative"],
          ["7", "since must be a message id (a number)"],
          [2.5, "since must be a whole number"],
        ]
      ) {
        client.send({ type: "join-room", room_id: "r", from: "B", since });
        assertEquals(await client.next(), { type: "error", error });
      }
      await client.close();
    });
  });

  Deno.test(`WebSocket join-room with since resumes without gaps or duplicates (${target.name})`, async () => {
    await using chat = await target.start(NO_RATE_LIMITS);
    const sender = await chat.connect();
    await sender.join("live", "Sender");
    const sendAll = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        sender.send({
          type: "send-message",
          room_id: "live",
          from: "Sender",
          message: `m${i}`,
        });
      }
    };
    let reader = await chat.connect();
    await reader.join("live", "Reader");

    const seen: Frame[] = [];
    sendAll(0, 30);
    seen.push(...await reader.take(20));
    await reader.close();

    // The rest is sent while the reader rejoins, so some of it is stored
    // while its history loads.
    reader = await chat.connect();
    reader.send({
      type: "join-room",
      room_id: "live",
      from: "Reader",
      since: seen.at(-1)!.id,
    });
    sendAll(30, 60);
    for (;;) {
      const frame = await reader.next();
      if (frame.type === "receive-message") seen.push(frame);
      if (frame.message === "m59") break;
    }
    assertEquals(seen.map((frame) => frame.message), texts(60));
    const stored = await chat.post("/receive", { room_id: "live" });
    assertEquals(
      seen.map((frame) => frame.id),
      stored.body.messages.map((m: Frame) => m.id),
    );
  });
}

// In process only: pruning runs every 5 s on the real clock, and only this
// test's fake clock and direct call make it quick. The same pruning on every
// target at start-up is in durability_test.ts.
for (const start of [startServer, startSqliteServer]) {
  Deno.test(`Retention prunes a running server's history (${start.name})`, async (t) => {
    let hoursLater = 0;
    await using chat = await start({
      retention: {
        maxPerRoom: 3,
        maxAgeSeconds: 60 * 60,
        now: () => unixSeconds() + hoursLater * 60 * 60,
      },
    });
    const retention = chat.server.app.retention;
    await send(chat, "busy", texts(5));
    await send(chat, "quiet", ["hello"]);

    await t.step("by count, the oldest first", async () => {
      await retention.prune();
      const reply = await chat.post("/receive", { room_id: "busy" });
      assertEquals(
        reply.body.messages.map((message: Frame) => message.message),
        ["m2", "m3", "m4"],
      );
      assertEquals((await chat.get("/rooms/busy")).body.message_count, 3);
    });

    await t.step("by age, and rooms left empty disappear", async () => {
      hoursLater = 2;
      await retention.prune();
      assertEquals((await chat.get("/rooms")).body.rooms, []);
      assertEquals((await chat.get("/rooms/busy")).status, 404);
      await send(chat, "quiet", ["back"]);
      assertEquals((await chat.get("/rooms")).body.rooms, ["quiet"]);
    });
  });
}
