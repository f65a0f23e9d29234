import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { Heartbeat } from "../lib/redis/heartbeat.ts";
import { RedisConnection } from "../lib/redis/redis_connection.ts";
import { delay } from "../scripts/_timing.ts";
import {
  type RedisServer,
  startRedisServer,
} from "../scripts/_redis_server.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

const ignore = !redisTestsEnabled();

/** An instance's heartbeat that lasts 300 ms, beating every 100 ms. */
async function openHeartbeat(redis: RedisServer, id: string) {
  const connection = await RedisConnection.open({ url: redis.url });
  const heartbeat = new Heartbeat(connection, { id, intervalMs: 100 });
  return {
    heartbeat,
    [Symbol.asyncDispose]: () => connection.close(),
  };
}

Deno.test({
  name:
    "Heartbeat keeps an instance live, tells when it was given up, and leaves on stop()",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using a = await openHeartbeat(redis, "a");
    await using b = await openHeartbeat(redis, "b");
    const first = await a.heartbeat.beat();
    assertEquals([first.revived, first.live], [true, ["a"]]);
    const second = await b.heartbeat.beat();
    assertEquals(second.live.toSorted(), ["a", "b"]);
    assert(Math.abs(second.now - Date.now()) < 5000, "Redis's clock in ms");

    b.heartbeat.start();
    await delay(450);
    const late = await a.heartbeat.beat();
    assertEquals(late.revived, true); // a missed its beats: given up
    assertEquals(late.live.toSorted(), ["a", "b"]); // b kept beating
    assertEquals((await a.heartbeat.beat()).revived, false);

    await b.heartbeat.stop();
    assertEquals((await a.heartbeat.beat()).live, ["a"]);
  },
});
