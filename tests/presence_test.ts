import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createClient } from "@redis/client";
import { Heartbeat } from "../lib/redis/heartbeat.ts";
import { Presence } from "../lib/redis/presence.ts";
import { RedisConnection } from "../lib/redis/redis_connection.ts";
import { roomKeys } from "../lib/redis/room_keys.ts";
import { delay } from "../scripts/_timing.ts";
import { eventually } from "./_helpers.ts";
import {
  type RedisServer,
  startRedisServer,
} from "../scripts/_redis_server.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

const ignore = !redisTestsEnabled();

/** An instance's heartbeat and presence, with a short heartbeat. */
async function openInstance(redis: RedisServer, id: string, ttlMs = 300) {
  const connection = await RedisConnection.open({ url: redis.url });
  const heartbeat = new Heartbeat(connection, {
    id,
    intervalMs: ttlMs / 3,
    ttlMs,
  });
  const presence = new Presence(connection, { instance: id, ttlMs });
  return {
    heartbeat,
    presence,
    [Symbol.asyncDispose]: () => connection.close(),
  };
}

/** Every event published on a room's channel, parsed. */
async function listen(redis: RedisServer, roomId: string) {
  const client = createClient({ url: redis.url });
  client.on("error", () => {});
  await client.connect();
  // deno-lint-ignore no-explicit-any
  const events: any[] = [];
  await client.sSubscribe(
    roomKeys(roomId).channel,
    (message) => events.push(JSON.parse(message)),
  );
  return {
    events,
    /** Waits until `count` events came, then a little for any extra one. */
    async settle(count: number) {
      await eventually(() => events.length >= count, `${count} events`);
      await delay(100);
      return events.map(({ type, from, instance }) => [type, from, instance]);
    },
    [Symbol.asyncDispose]: () => client.close(),
  };
}

function names(members: { from: string }[]): string[] {
  return members.map((member) => member.from);
}

Deno.test({
  name:
    "Presence.join() and leave() announce each change once, and members() lists every instance's in join order",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using channel = await listen(redis, "r");
    await using a = await openInstance(redis, "a", 60_000);
    await using b = await openInstance(redis, "b", 60_000);
    assertEquals(await a.presence.join("r", "1", "Ann"), true);
    assertEquals(await b.presence.join("r", "1", "Bob"), true);
    assertEquals(await a.presence.join("r", "1", "Ann"), false);
    assertEquals(await a.presence.join("r", "2", "Ann"), true);
    assertEquals(names(await b.presence.members("r")), ["Ann", "Bob", "Ann"]);
    assertEquals(await a.presence.leave("r", "1", "Ann"), true);
    assertEquals(await a.presence.leave("r", "1", "Ann"), false);
    assertEquals(await a.presence.members("r"), [
      { instance: "b", connection: "1", from: "Bob" },
      { instance: "a", connection: "2", from: "Ann" },
    ]);
    assertEquals(await channel.settle(4), [
      ["join-room", "Ann", "a"],
      ["join-room", "Bob", "b"],
      ["join-room", "Ann", "a"],
      ["leave-room", "Ann", "a"],
    ]);
  },
});

Deno.test({
  name:
    "Presence removes a dead instance's members once, however many instances notice",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using channel = await listen(redis, "r");
    await using living = await openInstance(redis, "living");
    const others = await Promise.all(
      ["x", "y", "z"].map((id) => openInstance(redis, id)),
    );
    await using dying = await openInstance(redis, "dying");
    try {
      await living.presence.join("r", "1", "Liv");
      for (const name of ["Dee", "Dan", "Dot"]) {
        await dying.presence.join("r", name, name);
      }
      // Only the living keep beating and refreshing their rooms.
      const keepAlive = setInterval(async () => {
        const beat = await living.heartbeat.beat();
        await living.presence.refresh(["r"], beat.now);
      }, 50);
      try {
        await delay(450); // past the dying instance's expiry
        // Four instances look at the room at the same moment, twice.
        const seen = await Promise.all(
          [living, ...others, living, ...others].map((instance) =>
            instance.presence.members("r")
          ),
        );
        for (const members of seen) assertEquals(names(members), ["Liv"]);
      } finally {
        clearInterval(keepAlive);
      }
      assertEquals(await channel.settle(7), [
        ["join-room", "Liv", "living"],
        ["join-room", "Dee", "dying"],
        ["join-room", "Dan", "dying"],
        ["join-room", "Dot", "dying"],
        ["leave-room", "Dee", "dying"],
        ["leave-room", "Dan", "dying"],
        ["leave-room", "Dot", "dying"],
      ]);
    } finally {
      for (const other of others) await other[Symbol.asyncDispose]();
    }
  },
});
