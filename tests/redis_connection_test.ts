import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import {
  RedisConnection,
  type RedisConnectionOptions,
} from "../lib/redis/redis_connection.ts";
import { RedisUnreachableError } from "../lib/redis/redis_unreachable_error.ts";
import { StoreUnavailableError } from "../lib/store/store_unavailable_error.ts";
import { delay } from "../scripts/_timing.ts";
import { eventually } from "./_helpers.ts";
import { startRedisServer } from "../scripts/_redis_server.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

const ignore = !redisTestsEnabled();

/** A connection with short deadlines, closed by `await using`. */
async function connect(
  url: string,
  options: Partial<RedisConnectionOptions> = {},
): Promise<RedisConnection & AsyncDisposable> {
  const connection = await RedisConnection.open({
    url,
    commandTimeoutMs: 300,
    healthIntervalMs: 100,
    stuckAfterMs: 1000,
    ...options,
  });
  return Object.assign(connection, {
    [Symbol.asyncDispose]: () => connection.close(),
  });
}

/** Whether a PING through the connection succeeds. */
function answers(connection: RedisConnection): Promise<boolean> {
  return connection.ping().then(() => true, () => false);
}

Deno.test({
  name:
    "RedisConnection.open() names the URL, not the password, when Redis cannot be reached",
  ignore,
  async fn(t) {
    await using redis = await startRedisServer({
      args: ["--requirepass", "s3cret"],
    });
    const cases: [string, string, RegExp][] = [
      [
        "nobody listens",
        `redis://:s3cret@127.0.0.1:1/0`,
        /^Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0: .*ECONNREFUSED.*Check that Redis runs there/,
      ],
      [
        "a wrong password",
        `redis://:wrong-s3cret@127.0.0.1:${redis.port}`,
        /^Cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: WRONGPASS/,
      ],
    ];
    for (const [what, url, expected] of cases) {
      await t.step(what, async () => {
        const started = Date.now();
        const error = await RedisConnection.open({ url }).then(
          () => new Error("connected"),
          (error) => error,
        );
        assert(error instanceof RedisUnreachableError, String(error));
        assert(expected.test(error.message), error.message);
        assert(!error.message.includes("s3cret"), error.message);
        assert(Date.now() - started < 5000);
      });
    }
  },
});

Deno.test({
  name: "RedisConnection.open() logs in as the URL's user, in its database",
  ignore,
  async fn() {
    await using redis = await startRedisServer({
      args: ["--user", "ann", "on", ">pa:ss", "~*", "&*", "+@all"],
    });
    await using connection = await connect(
      `redis://ann:${encodeURIComponent("pa:ss")}@127.0.0.1:${redis.port}/3`,
    );
    const info = await connection.run(
      "CLIENT INFO",
      (client) => client.clientInfo(),
    );
    assertEquals([info.user, info.db], ["ann", 3]);
    assertEquals(
      connection.redactedUrl,
      `redis://ann:***@127.0.0.1:${redis.port}/3`,
    );
  },
});

Deno.test({
  name:
    "RedisConnection.run() fails within its deadline while Redis hangs, then works again",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    const changes: boolean[] = [];
    await using connection = await connect(redis.url, {
      onStateChange: (up) => changes.push(up),
    });
    await connection.run("SET", (client) => client.set("k", "v"));

    redis.pause();
    try {
      const started = Date.now();
      await assertRejects(
        connection.run("GET", (client) => client.get("k")),
        (error: Error) =>
          error instanceof StoreUnavailableError &&
          /^Redis at redis:\/\/127\.0\.0\.1:\d+ is unavailable \(GET: no answer within 300 ms\)/
            .test(error.message),
      );
      assert(Date.now() - started < 1000);
      // Later commands fail at once, and the state changed once.
      for (let i = 0; i < 20; i++) {
        const before = Date.now();
        await assertRejects(
          connection.run("GET", (client) => client.get("k")),
          StoreUnavailableError,
        );
        assert(Date.now() - before < 400);
      }
      await assertRejects(connection.ping(), StoreUnavailableError);
      assertEquals(changes, [false]);
    } finally {
      redis.resume();
    }
    await eventually(() => answers(connection), "Redis to answer again", 5000);
    assertEquals(
      await connection.run("GET", (client) => client.get("k")),
      "v",
    );
    assertEquals(changes, [false, true]);
  },
});

Deno.test({
  name:
    "RedisConnection survives Redis being killed again and again while it reconnects",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    const changes: boolean[] = [];
    await using connection = await connect(redis.url, {
      onStateChange: (up) => changes.push(up),
    });
    let outcomes = 0;
    let stop = false;
    // Commands keep coming; each one must settle within its deadline.
    const load = (async () => {
      while (!stop) {
        const started = Date.now();
        await connection.run("INCR", (client) => client.incr("n")).catch(
          (error) => {
            if (!(error instanceof StoreUnavailableError)) throw error;
          },
        );
        assert(Date.now() - started < 1000, "a command hung");
        outcomes++;
        await delay(5);
      }
    })();
    for (let round = 0; round < 8; round++) {
      await redis.kill();
      await delay((round * 37) % 90);
      await redis.restart();
      await delay((round * 53) % 120);
      // Paused while the client may be in its handshake: a socket that
      // accepted the connection and never answers.
      redis.pause();
      await delay(150 + round * 20);
      await redis.kill();
      await redis.restart();
    }
    await eventually(() => answers(connection), "Redis to answer again", 5000);
    stop = true;
    await load;
    assert(outcomes > 20, `only ${outcomes} commands settled`);
    assertEquals(
      await connection.run("SET", (client) => client.set("after", "ok")),
      "OK",
    );
    assertEquals(changes.at(-1), true);
    // Every change is a real one: down, up, down, up...
    assert(changes.every((up, i) => up === (i % 2 === 1)), String(changes));
  },
});

Deno.test({
  name:
    "RedisConnection.onReady() is called when the client is ready after a lost connection",
  ignore,
  async fn() {
    await using redis = await startRedisServer();
    await using connection = await connect(redis.url);
    let readies = 0;
    const remove = connection.onReady(() => readies++);
    await redis.kill();
    await redis.restart();
    await eventually(() => readies > 0, "the client to be ready again", 5000);
    remove();
    assert(await answers(connection));
  },
});
