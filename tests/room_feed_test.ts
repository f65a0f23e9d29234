import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { createClient } from "@redis/client";
import type { StoredMessage } from "../lib/contract.ts";
import { RedisConnection } from "../lib/redis/redis_connection.ts";
import { RedisStore } from "../lib/redis/redis_store.ts";
import { type PublishedPresence, RoomFeed } from "../lib/redis/room_feed.ts";
import { roomKeys } from "../lib/redis/room_keys.ts";
import { StoreUnavailableError } from "../lib/store/store_unavailable_error.ts";
import { delay } from "../scripts/_timing.ts";
import { eventually } from "./_helpers.ts";
import {
  type RedisServer,
  startRedisServer,
} from "../scripts/_redis_server.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

const ignore = !redisTestsEnabled();

/** A store and a feed on `redis`, as one instance has them. */
async function openInstance(redis: RedisServer) {
  const options = {
    url: redis.url,
    commandTimeoutMs: 500,
    healthIntervalMs: 100,
    stuckAfterMs: 800,
  };
  const store = new RedisStore({
    connection: await RedisConnection.open(options),
  });
  const delivered = new Map<string, number[]>();
  const presence: PublishedPresence[] = [];
  const lost: [string, number, number][] = [];
  let repairs = 0;
  const subscriber = await RedisConnection.open(options);
  const feed = new RoomFeed({
    connection: subscriber,
    history: store,
    onMessage(message: StoredMessage) {
      delivered.set(message.room_id, [
        ...delivered.get(message.room_id) ?? [],
        message.id,
      ]);
    },
    onPresence: (event) => presence.push(event),
    onLost: (room, from, to) => lost.push([room, from, to]),
    onRepair: () => repairs++,
  });
  return {
    store,
    feed,
    delivered,
    presence,
    lost,
    repairs: () => repairs,
    async [Symbol.asyncDispose]() {
      await feed.close();
      await subscriber.close();
      await store.close();
    },
  };
}

/** Appends `count` messages to `roomId`, retrying through outages. */
async function appendAll(store: RedisStore, roomId: string, count: number) {
  const ids: number[] = [];
  while (ids.length < count) {
    try {
      ids.push(
        (await store.append({
          room_id: roomId,
          from: "A",
          message: `${ids.length}`,
        })).id,
      );
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      await delay(20);
    }
  }
  return ids;
}

/** Waits until `roomId` got `count` messages on the instance. */
function deliveredAll(
  instance: { delivered: Map<string, number[]> },
  roomId: string,
  count: number,
) {
  return eventually(
    () => (instance.delivered.get(roomId)?.length ?? 0) >= count,
    `${count} messages in ${roomId}`,
    8000,
  );
}

/** 1, 2, ... count. */
function oneTo(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i + 1);
}

Deno.test({
  name:
    "RoomFeed delivers every message of a followed room once, in order, whoever appends it",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using a = await openInstance(redis);
    await using b = await openInstance(redis);
    await a.store.append({ room_id: "r", from: "A", message: "before" });
    await a.feed.follow("r");
    await b.feed.follow("r");
    assertEquals(a.feed.lastDelivered("r"), 1);
    // Both instances append at once, into the followed room and another.
    await Promise.all([
      appendAll(a.store, "r", 100),
      appendAll(b.store, "r", 100),
      appendAll(b.store, "elsewhere", 10),
    ]);
    await deliveredAll(a, "r", 200);
    await deliveredAll(b, "r", 200);
    const expected = oneTo(201).slice(1);
    assertEquals(a.delivered.get("r"), expected);
    assertEquals(b.delivered.get("r"), expected);
    assertEquals(a.delivered.has("elsewhere"), false);
    assertEquals([a.repairs(), a.lost], [0, []]);
  },
});

Deno.test({
  name:
    "RoomFeed reads what it missed while its subscription was cut, before anything newer",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using instance = await openInstance(redis);
    const killer = createClient({ url: redis.url });
    killer.on("error", () => {});
    await killer.connect();
    try {
      await instance.feed.follow("r");
      const writing = appendAll(instance.store, "r", 300);
      for (let i = 0; i < 5; i++) {
        await delay(20);
        await killer.clientKill({ filter: "TYPE", type: "pubsub" });
      }
      await writing;
      await deliveredAll(instance, "r", 300);
      assertEquals(instance.delivered.get("r"), oneTo(300));
      assert(instance.repairs() > 0, "no repair was needed");
    } finally {
      await killer.close();
    }
  },
});

Deno.test({
  name:
    "RoomFeed follows again on a new client when Redis hung, and misses nothing",
  ignore,
  async fn() {
    await using redis = await startRedisServer({ durable: true });
    await using instance = await openInstance(redis);
    await instance.feed.follow("r");
    await appendAll(instance.store, "r", 10);
    redis.pause();
    await delay(1500); // longer than stuckAfterMs: the clients are replaced
    redis.resume();
    await appendAll(instance.store, "r", 10);
    await redis.kill();
    await redis.restart();
    await appendAll(instance.store, "r", 10);
    await deliveredAll(instance, "r", 30);
    assertEquals(instance.delivered.get("r"), oneTo(30));
  },
});

Deno.test({
  name: "RoomFeed reports messages that were pruned before it could read them",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using instance = await openInstance(redis);
    await instance.feed.follow("r");
    await appendAll(instance.store, "r", 2);
    const client = createClient({ url: redis.url });
    client.on("error", () => {});
    await client.connect();
    try {
      // As if messages 3 to 6 were stored and pruned before the feed saw
      // them, and 7 is published now.
      await client.set(roomKeys("r").seq, "6");
      await appendAll(instance.store, "r", 1);
      await deliveredAll(instance, "r", 3);
      assertEquals(instance.delivered.get("r"), [1, 2, 7]);
      assertEquals(instance.lost, [["r", 3, 6]]);
      // Presence events on the channel go their own way.
      await client.sPublish(
        roomKeys("r").channel,
        JSON.stringify({
          type: "join-room",
          room_id: "r",
          from: "Ann",
          instance: "i",
          connection: "c",
        }),
      );
      await eventually(
        () => instance.presence.length > 0,
        "the presence event",
      );
      assertEquals(instance.presence[0]?.from, "Ann");
    } finally {
      await client.close();
    }
  },
});

Deno.test({
  name: "RoomFeed.unfollow() stops the room's messages",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using instance = await openInstance(redis);
    await instance.feed.follow("r");
    await appendAll(instance.store, "r", 1);
    await deliveredAll(instance, "r", 1);
    await instance.feed.unfollow("r");
    assertEquals(instance.feed.rooms, []);
    await appendAll(instance.store, "r", 3);
    await delay(100);
    assertEquals(instance.delivered.get("r"), [1]);
  },
});
