/**
 * What the Redis store does beyond the contract every store keeps
 * (`message_store_test.ts`): publishing, ids per room, key layout, trimming,
 * outages and crashes of Redis. Every test starts its own `redis-server`.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import { createClient } from "@redis/client";
import type { StoredMessage } from "../lib/contract.ts";
import {
  RedisConnection,
  type RedisConnectionOptions,
} from "../lib/redis/redis_connection.ts";
import {
  RedisStore,
  type RedisStoreOptions,
} from "../lib/redis/redis_store.ts";
import {
  roomKeys,
  ROOMS_BY_AGE_KEY,
  ROOMS_KEY,
} from "../lib/redis/room_keys.ts";
import { StoreUnavailableError } from "../lib/store/store_unavailable_error.ts";
import { delay } from "../scripts/_timing.ts";
import { eventually } from "./_helpers.ts";
import {
  type RedisServer,
  startRedisServer,
} from "../scripts/_redis_server.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

const ignore = !redisTestsEnabled();

/** A store on `redis` with short deadlines, closed by `await using`. */
async function openStore(
  redis: RedisServer,
  options: Partial<RedisStoreOptions> = {},
  connectionOptions: Partial<RedisConnectionOptions> = {},
): Promise<RedisStore & AsyncDisposable> {
  const connection = await RedisConnection.open({
    url: redis.url,
    commandTimeoutMs: 500,
    healthIntervalMs: 100,
    ...connectionOptions,
  });
  const store = new RedisStore({ connection, ...options });
  return Object.assign(store, {
    [Symbol.asyncDispose]: () => store.close(),
  });
}

/** A plain node-redis client, to look at what the store wrote. */
async function inspect(redis: RedisServer) {
  const client = createClient({ url: redis.url });
  client.on("error", () => {});
  await client.connect();
  return Object.assign(client, {
    [Symbol.asyncDispose]: () => client.close(),
  });
}

function draft(room_id: string, message = "hi") {
  return { room_id, from: "Ann", message };
}

Deno.test({
  name: "RedisStore.append() numbers each room's messages 1, 2, 3...",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using store = await openStore(redis);
    const ids = [];
    for (const room of ["r", "r", "other", "r", "other"]) {
      ids.push((await store.append(draft(room))).id);
    }
    assertEquals(ids, [1, 2, 1, 3, 2]);
  },
});

Deno.test({
  name:
    "RedisStore.append() publishes the stored messages on their room's sharded channel",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using store = await openStore(redis, {
      now: () => 1730758663.598467,
    });
    await using subscriber = await inspect(redis);
    const published: string[] = [];
    const room = 'quotes " \\ / {braces} % and ünïcödé 🎉';
    await subscriber.sSubscribe(
      roomKeys(room).channel,
      (message) => published.push(message),
    );
    const text = 'line\none\t"quoted" \\ back/slash \u0001 🎉 </script>';
    const stored = await store.append({
      room_id: room,
      from: "Zoë",
      message: text,
    });
    assertEquals(stored, {
      room_id: room,
      from: "Zoë",
      message: text,
      sent_at: 1730758663.598467,
      id: 1,
    });
    await eventually(() => published.length > 0, "the message to be published");
    assertEquals(published.length, 1);
    const [message]: StoredMessage[] = JSON.parse(published[0]!);
    assertEquals(message, stored);
    assertEquals(Object.keys(message!), Object.keys(stored));
    assertEquals((await store.read(room)).messages, [stored]);
  },
});

Deno.test({
  name:
    "RedisStore.append() stores a room's messages of one turn with one script call, resolved in id order",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using store = await openStore(redis);
    await using subscriber = await inspect(redis);
    const published: number[][] = [];
    await subscriber.sSubscribe(
      roomKeys("a").channel,
      (payload) =>
        published.push(
          JSON.parse(payload).map((message: StoredMessage) => message.id),
        ),
    );
    const resolved: string[] = [];
    const appends = ["a", "b", "a", "a", "b"].map((room_id, i) =>
      store.append({ room_id, from: "A", message: `${i}` }).then((stored) => {
        resolved.push(`${stored.room_id}${stored.id}`);
        return stored;
      })
    );
    const stored = await Promise.all(appends);
    assertEquals(stored.map(({ id, message }) => [id, message]), [
      [1, "0"],
      [1, "1"],
      [2, "2"],
      [3, "3"],
      [2, "4"],
    ]);
    assertEquals(resolved.filter((id) => id.startsWith("a")), [
      "a1",
      "a2",
      "a3",
    ]);
    await eventually(() => published.length > 0, "the batch to be published");
    assertEquals(published, [[1, 2, 3]]);
    const next = await store.append({ room_id: "a", from: "A", message: "4" });
    assertEquals(next.id, 4);
  },
});

Deno.test("roomKeys() gives every key of a room one hash tag, and rooms distinct keys", () => {
  const rooms = ["general", "a}b", "{x}", "}", "{", "%7B", "%", "a:b", " "];
  const seen = new Set<string>();
  for (const room of rooms) {
    const keys = Object.values(roomKeys(room));
    // Redis hashes the text between the first "{" and the next "}".
    const tags = keys.map((key) => {
      const open = key.indexOf("{");
      const close = key.indexOf("}", open + 1);
      return key.slice(open + 1, close);
    });
    assert(tags[0]!.length > 0, room);
    assertEquals(new Set(tags).size, 1, room);
    for (const key of keys) {
      assert(!seen.has(key), `${key} is shared`);
      seen.add(key);
    }
  }
});

Deno.test({
  name: "RedisStore.append() keeps each room to maxPerRoom messages",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using store = await openStore(redis, { maxPerRoom: 3 });
    for (let i = 0; i < 10; i++) await store.append(draft("r", `${i}`));
    await store.append(draft("small"));
    const page = await store.read("r");
    assertEquals(page.messages.map((message) => message.id), [8, 9, 10]);
    assertEquals((await store.stats("r")).message_count, 3);
    assertEquals((await store.stats("small")).message_count, 1);
  },
});

Deno.test({
  name:
    "RedisStore.append() keeps the order of calls made in turns, even after Redis forgot its scripts",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using store = await openStore(redis);
    await using client = await inspect(redis);
    await store.append(draft("r"));
    await client.scriptFlush();
    // One call per turn: each is a script call of its own, sent before the
    // one before it was answered.
    const appends = [];
    for (let i = 0; i < 20; i++) {
      appends.push(store.append(draft("r", `${i}`)));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const stored = await Promise.all(appends);
    assertEquals(
      stored.map(({ id, message }) => [id, message]),
      stored.map((_, i) => [i + 2, `${i}`]),
    );
  },
});

Deno.test({
  name:
    "RedisStore lists a room again that an instance died before indexing, by its hundredth message",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using store = await openStore(redis);
    await using client = await inspect(redis);
    await store.append(draft("a"));
    await store.append(draft("b"));
    // As if the instance died between the script and the index updates.
    await client.zRem(ROOMS_KEY, "a");
    await client.zRem(ROOMS_BY_AGE_KEY, "a");
    assertEquals((await store.rooms({ limit: 1000 })).rooms, ["b"]);
    // Every hundredth message lists its room again.
    for (let id = 2; id < 100; id++) await store.append(draft("a"));
    assertEquals((await store.rooms({ limit: 1000 })).rooms, ["b"]);
    assertEquals((await store.append(draft("a"))).id, 100);
    assertEquals((await store.rooms({ limit: 1000 })).rooms, ["b", "a"]);
  },
});

Deno.test({
  name: "RedisStore.prune() by age visits only the rooms with old messages",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    let time = 1_700_000_000;
    await using store = await openStore(redis, { now: () => time });
    await using client = await inspect(redis);
    for (const room of ["old-1", "old-2", "mixed"]) {
      await store.append(draft(room));
    }
    time += 1000;
    await store.append(draft("mixed"));
    for (let i = 0; i < 300; i++) await store.append(draft(`young-${i}`));

    await client.configResetStat();
    assertEquals(await store.prune({ sentBefore: time - 500 }), 3);
    const stats = await client.info("commandstats");
    const scripts = /cmdstat_eval:calls=(\d+)/.exec(stats)?.[1];
    assertEquals(scripts, "3"); // old-1, old-2, mixed; none of the 300
    const rooms = (await store.rooms({ limit: 1000 })).rooms;
    assertEquals(rooms.length, 301);
    assert(!rooms.includes("old-1") && rooms.includes("mixed"));
    assertEquals((await store.stats("mixed")).message_count, 1);
    // The index now knows mixed's oldest message is young.
    assertEquals(await store.prune({ sentBefore: time - 500 }), 0);
  },
});

Deno.test({
  name:
    "RedisStore fails fast while Redis is down, says so once, and works again when it is back",
  ignore,
  async fn() {
    await using redis = await startRedisServer({ durable: true });
    const changes: boolean[] = [];
    await using store = await openStore(redis, {}, {
      onStateChange: (up) => changes.push(up),
    });
    await store.append(draft("r"));
    await redis.kill();
    for (let i = 0; i < 50; i++) {
      const started = Date.now();
      await assertRejects(store.append(draft("r")), StoreUnavailableError);
      assert(Date.now() - started < 1000);
    }
    await assertRejects(store.ping(), StoreUnavailableError);
    await assertRejects(store.read("r"), StoreUnavailableError);
    assertEquals(changes, [false]);

    await redis.restart();
    await eventually(
      () => store.ping().then(() => true, () => false),
      "the store to answer again",
    );
    assertEquals((await store.append(draft("r"))).id, 2);
    assertEquals(changes, [false, true]);
  },
});

Deno.test({
  name:
    "RedisStore loses no acknowledged message when Redis is SIGKILLed mid-stream (appendfsync always)",
  ignore,
  async fn() {
    await using redis = await startRedisServer({ durable: true });
    await using store = await openStore(redis);
    const acknowledged = new Map<string, number[]>();
    let stop = false;
    // Five writers, each in its own room and in a shared one.
    const writers = Array.from({ length: 5 }, async (_, writer) => {
      for (let i = 0; !stop; i++) {
        const room = i % 2 ? "shared" : `own-${writer}`;
        try {
          const { id } = await store.append(draft(room, `${writer}:${i}`));
          acknowledged.set(room, [...acknowledged.get(room) ?? [], id]);
        } catch (error) {
          if (!(error instanceof StoreUnavailableError)) throw error;
          await delay(10);
        }
      }
    });
    await delay(300);
    await redis.kill();
    await delay(200);
    await redis.restart();
    await delay(300);
    stop = true;
    await Promise.all(writers);

    let total = 0;
    for (const [room, ids] of acknowledged) {
      const stored = (await store.read(room)).messages.map((m) => m.id);
      for (const id of ids) assert(stored.includes(id), `${room} lost ${id}`);
      // Consecutive, with no id given twice.
      assertEquals(stored, stored.map((_, i) => i + 1));
      total += ids.length;
    }
    assert(total > 50, `only ${total} messages were acknowledged`);
  },
});
