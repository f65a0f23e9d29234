/**
 * The contract every {@linkcode MessageStore} keeps, run against each one.
 *
 * @module
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RedisConnection } from "../lib/redis/redis_connection.ts";
import { RedisStore } from "../lib/redis/redis_store.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import type {
  MessageDraft,
  MessageStore,
  ReadOptions,
} from "../lib/store/store.ts";
import { within } from "./_helpers.ts";
import { startRedisServer } from "../scripts/_redis_server.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

/** A clock that tests set by hand. */
class FakeClock {
  time = 1_700_000_000;
  now = () => this.time;
}

const STORES: {
  name: string;
  /** Whether ids increase across rooms too, not only within each room. */
  serverWideIds: boolean;
  /** Whether the store can run here (Redis needs redis-server). */
  ignore?: boolean;
  /** A new, empty store, closed (with what it started) by `await using`. */
  open(now: () => number): Promise<MessageStore & AsyncDisposable>;
}[] = [
  {
    name: "MemoryStore",
    serverWideIds: true,
    open: (now) => Promise.resolve(disposable(new MemoryStore({ now }))),
  },
  {
    name: "SqliteStore",
    serverWideIds: true,
    open: (now) =>
      Promise.resolve(disposable(new SqliteStore({ path: ":memory:", now }))),
  },
  {
    name: "RedisStore",
    serverWideIds: false,
    ignore: !redisTestsEnabled(),
    async open(now) {
      const redis = await startRedisServer();
      const connection = await RedisConnection.open({ url: redis.url });
      const store = new RedisStore({ connection, now });
      return Object.assign(store, {
        [Symbol.asyncDispose]: async () => {
          await store.close();
          await redis.stop();
        },
      });
    },
  },
];

/** Appends one message; the wait is bounded, as the store may batch it. */
function append(store: MessageStore, draft: MessageDraft) {
  return within(store.append(draft), "the message to be stored");
}

/** Appends `count` messages to `roomId`, one after another. */
async function fill(store: MessageStore, roomId: string, count: number) {
  const ids = [];
  for (let i = 0; i < count; i++) {
    ids.push(
      (await append(store, { room_id: roomId, from: "A", message: `${i}` })).id,
    );
  }
  return ids;
}

for (const { name, open, serverWideIds, ignore = false } of STORES) {
  Deno.test(`${name}.append() stamps sent_at and strictly increasing ids`, {
    ignore,
  }, async () => {
    const clock = new FakeClock();
    await using store = await open(clock.now);
    const first = await append(store, {
      room_id: "r",
      from: "Ann",
      message: "hi",
    });
    clock.time += 1.5;
    const second = await append(store, {
      room_id: "other",
      from: "Bob",
      message: "yo",
    });
    assertEquals(first, {
      room_id: "r",
      from: "Ann",
      message: "hi",
      sent_at: 1_700_000_000,
      id: first.id,
    });
    assertEquals(Object.keys(first), [
      "room_id",
      "from",
      "message",
      "sent_at",
      "id",
    ]);
    assertEquals(second.sent_at, 1_700_000_001.5);
    const third = await append(store, { room_id: "r", from: "A", message: "" });
    assertEquals(third.id > first.id, true);
    // Redis counts each room on its own: 1, 2, 3... in every room.
    if (serverWideIds) assertEquals(second.id > first.id, true);
  });

  Deno.test(
    `${name}.append() resolves a room's appends in the order of their ids`,
    { ignore },
    async () => {
      await using store = await open(new FakeClock().now);
      // All at once, across a room's first message and its hundredth (where
      // the Redis store does more work).
      const resolved: number[] = [];
      await within(
        Promise.all(
          Array.from(
            { length: 150 },
            (_, i) =>
              store.append({ room_id: "r", from: "A", message: `${i}` })
                .then((message) => resolved.push(message.id)),
          ),
        ),
        "150 appends",
      );
      assertEquals(
        resolved,
        resolved.toSorted((a, b) => a - b),
      );
    },
  );

  Deno.test(`${name}.read() pages through a room`, { ignore }, async (t) => {
    await using store = await open(new FakeClock().now);
    // Another room's messages in between, so a room's ids have gaps.
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push(...await fill(store, "r", 1));
      await fill(store, "other", 1);
    }
    const id = (n: number) => ids[n - 1]!;

    const cases: [string, ReadOptions, number[], boolean][] = [
      ["everything", {}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], false],
      ["the newest, by limit", { limit: 3 }, [8, 9, 10], true],
      [
        "all, when limit is not reached",
        { limit: 10 },
        ids.map((_, i) => i + 1),
        false,
      ],
      ["the newest before an id", { before: id(5), limit: 2 }, [3, 4], true],
      ["the oldest after an id", { after: id(5), limit: 2, keep: "oldest" }, [
        6,
        7,
      ], true],
      ["the rest after an id", { after: id(8), limit: 5, keep: "oldest" }, [
        9,
        10,
      ], false],
      ["between two ids", { after: id(2), before: id(6) }, [3, 4, 5], false],
      [
        "the newest between two ids",
        { after: id(2), before: id(6), limit: 2 },
        [4, 5],
        true,
      ],
      ["nothing after the newest", { after: id(10) }, [], false],
      ["nothing before the first", { before: id(1) }, [], false],
    ];
    for (const [what, options, expected, hasMore] of cases) {
      await t.step(what, async () => {
        const page = await store.read("r", options);
        assertEquals(
          page.messages.map((message) => message.id),
          expected.map(id),
        );
        assertEquals(page.has_more, hasMore);
      });
    }

    await t.step("nothing for an unknown room", async () => {
      assertEquals(await store.read("nowhere", { limit: 5 }), {
        messages: [],
        has_more: false,
      });
    });
  });

  Deno.test(`${name}.rooms() lists rooms in the order of their first message`, {
    ignore,
  }, async (t) => {
    await using store = await open(new FakeClock().now);
    for (const room of ["b", "a", "b", "c", "a"]) await fill(store, room, 1);
    assertEquals(await store.roomCount(), 3);

    await t.step("in one page when they fit", async () => {
      assertEquals(await store.rooms({ limit: 3 }), { rooms: ["b", "a", "c"] });
    });

    await t.step(
      "page by page, each from the next of the one before",
      async () => {
        const first = await store.rooms({ limit: 2 });
        assertEquals(first.rooms, ["b", "a"]);
        assertEquals(typeof first.next, "number");
        assertEquals(await store.rooms({ limit: 2, after: first.next }), {
          rooms: ["c"],
        });
      },
    );

    await t.step("after a position past the last: none", async () => {
      const { next } = await store.rooms({ limit: 1 });
      const last = await store.rooms({ limit: 1, after: next });
      const rest = await store.rooms({ limit: 1, after: last.next });
      assertEquals(rest.rooms, ["c"]);
      assertEquals(
        await store.rooms({ limit: 5, after: Number.MAX_SAFE_INTEGER }),
        { rooms: [] },
      );
    });
  });

  Deno.test(`${name}.rooms() pages stay right while rooms come and go`, {
    ignore,
  }, async () => {
    const clock = new FakeClock();
    await using store = await open(clock.now);
    await fill(store, "a", 1);
    await fill(store, "b", 1);
    clock.time += 100;
    await fill(store, "a", 1);
    await fill(store, "c", 1);
    const first = await store.rooms({ limit: 2 });
    assertEquals(first.rooms, ["a", "b"]);
    // "b" is pruned away, "a" keeps its place and a message, "d" is new.
    await store.prune({ sentBefore: clock.time - 50 });
    await fill(store, "d", 1);
    assertEquals(await store.rooms({ limit: 5, after: first.next }), {
      rooms: ["c", "d"],
    });
    // A room used again after it was forgotten comes last.
    await fill(store, "b", 1);
    assertEquals(await store.rooms({ limit: 10 }), {
      rooms: ["a", "c", "d", "b"],
    });
  });

  Deno.test(
    `${name}.stats() counts a room's messages`,
    { ignore },
    async () => {
      const clock = new FakeClock();
      await using store = await open(clock.now);
      assertEquals(await store.stats("r"), {
        message_count: 0,
        last_message_at: null,
      });
      await fill(store, "r", 2);
      clock.time += 10;
      await fill(store, "r", 1);
      await fill(store, "other", 1);
      assertEquals(await store.stats("r"), {
        message_count: 3,
        last_message_at: clock.time,
      });
    },
  );

  Deno.test(
    `${name}.prune() removes the oldest messages`,
    { ignore },
    async (t) => {
      await t.step("beyond maxPerRoom, in every room", async () => {
        await using store = await open(new FakeClock().now);
        const big = await fill(store, "big", 5);
        const small = await fill(store, "small", 2);
        assertEquals(await store.prune({ maxPerRoom: 3 }), 2);
        assertEquals(await ids(store, "big"), big.slice(2));
        assertEquals(await ids(store, "small"), small);
        assertEquals((await store.stats("big")).message_count, 3);
      });

      await t.step("sent before sentBefore", async () => {
        const clock = new FakeClock();
        await using store = await open(clock.now);
        await fill(store, "r", 2);
        clock.time += 100;
        const young = await fill(store, "r", 2);
        assertEquals(await store.prune({ sentBefore: clock.time - 50 }), 2);
        assertEquals(await ids(store, "r"), young);
      });

      await t.step("at most limit of them per call", async () => {
        await using store = await open(new FakeClock().now);
        const all = await fill(store, "r", 10);
        assertEquals(await store.prune({ maxPerRoom: 2, limit: 5 }), 5);
        assertEquals(await ids(store, "r"), all.slice(5));
        assertEquals(await store.prune({ maxPerRoom: 2, limit: 5 }), 3);
        assertEquals(await store.prune({ maxPerRoom: 2, limit: 5 }), 0);
        assertEquals(await ids(store, "r"), all.slice(8));
      });

      await t.step("and forgets a room left without any", async () => {
        const clock = new FakeClock();
        await using store = await open(clock.now);
        await fill(store, "old", 2);
        clock.time += 100;
        await fill(store, "new", 1);
        await store.prune({ sentBefore: clock.time - 50 });
        assertEquals(await store.rooms({ limit: 10 }), { rooms: ["new"] });
        assertEquals(await store.roomCount(), 1);
        assertEquals(await store.stats("old"), {
          message_count: 0,
          last_message_at: null,
        });
      });

      await t.step("and never reuses their ids", async () => {
        const clock = new FakeClock();
        await using store = await open(clock.now);
        const [, newest] = await fill(store, "r", 2);
        clock.time += 100;
        await store.prune({ sentBefore: clock.time });
        const [next] = await fill(store, "r", 1);
        assertEquals(next! > newest!, true);
      });
    },
  );
}

async function ids(store: MessageStore, roomId: string): Promise<number[]> {
  const page = await store.read(roomId);
  return page.messages.map((message) => message.id);
}

/** Lets `await using` close a store. */
function disposable<S extends MessageStore>(store: S): S & AsyncDisposable {
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
}
