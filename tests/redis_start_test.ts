/**
 * `--redis` as a user meets it, on every build: the Deno source, the bundle
 * on Bun and the Bun executable. Each test starts its own `redis-server`.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import {
  runToEnd,
  SERVER_COMMANDS,
  startChildServer,
} from "./_child_server.ts";
import { eventually, readMetrics, readReply } from "./_helpers.ts";
import { startRedisServer } from "../scripts/_redis_server.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

const ignore = !redisTestsEnabled();

function readyStatus(httpUrl: string) {
  return fetch(`${httpUrl}/readyz`).then(readReply);
}

function send(httpUrl: string, message: string) {
  return fetch(`${httpUrl}/send`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ room_id: "general", from: "Ann", message }),
  }).then(readReply);
}

for (const command of SERVER_COMMANDS) {
  Deno.test({
    name:
      `main.ts --redis keeps one history for every instance (${command.name})`,
    ignore,
    async fn() {
      await using redis = await startRedisServer();
      const url = `${redis.url}/2`;
      await using first = await startChildServer(command, ["--redis", url]);
      assert(
        first.output().includes(`History:   ${url} (1 instance seen)`),
        first.output(),
      );
      await using second = await startChildServer(command, [
        "--redis",
        url,
      ]);
      assert(
        second.output().includes(`History:   ${url} (2 instances seen)`),
        second.output(),
      );

      const sent = await send(first.httpUrl, "hello from the first");
      assertEquals([sent.status, sent.body.id], [200, 1]);
      const received = await fetch(`${second.httpUrl}/receive`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ room_id: "general" }),
      }).then(readReply);
      assertEquals(received.body.messages, [sent.body]);
      const rooms = await fetch(`${second.httpUrl}/rooms`).then(readReply);
      assertEquals(rooms.body, { rooms: ["general"], has_more: false });
    },
  });

  Deno.test({
    name:
      `main.ts --redis keeps each room to --history-max messages (${command.name})`,
    ignore,
    async fn() {
      await using redis = await startRedisServer();
      await using server = await startChildServer(command, [
        "--redis",
        redis.url,
        "--history-max",
        "3",
      ]);
      for (const message of ["one", "two", "three", "four", "five"]) {
        assertEquals((await send(server.httpUrl, message)).status, 200);
      }
      const received = await fetch(`${server.httpUrl}/receive`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ room_id: "general" }),
      }).then(readReply);
      assertEquals(
        received.body.messages.map((message: { id: number }) => message.id),
        [3, 4, 5],
      );
      const metrics = await readMetrics(server.httpUrl);
      assertEquals(metrics.get("chat_redis_up"), 1);
      assertEquals(metrics.get("chat_redis_subscriber_up"), 1);
      assertEquals(
        metrics.get('chat_redis_published_total{kind="message"}'),
        5,
      );
      assert(metrics.get("chat_redis_command_seconds_count")! >= 5);
      assertEquals(metrics.get("chat_redis_gap_repairs_total"), 0);
    },
  });

  Deno.test({
    name:
      `main.ts --redis takes a rediss:// URL with a password and a database (${command.name})`,
    ignore,
    async fn() {
      await using redis = await startRedisServer({
        tls: true,
        args: ["--requirepass", "s3cret"],
      });
      const url = redis.url.replace("rediss://", "rediss://:s3cret@") + "/3";
      // Each runtime's way to trust one more CA.
      await using server = await startChildServer(command, ["--redis", url], {
        DENO_CERT: redis.caFile!,
        NODE_EXTRA_CA_CERTS: redis.caFile!,
      });
      assert(
        server.output().includes(
          `History:   rediss://:***@localhost:${redis.port}/3 (1 instance seen)`,
        ),
        server.output(),
      );
      assertEquals((await send(server.httpUrl, "over TLS")).status, 200);
    },
  });

  Deno.test({
    name:
      `main.ts --redis exits 1 with one line when Redis cannot be reached (${command.name})`,
    ignore,
    async fn() {
      const { code, stdout, stderr } = await runToEnd(command, [
        "--redis",
        "redis://ann:s3cret@127.0.0.1:1/4",
      ]);
      assertEquals(code, 1);
      assertEquals(stdout, "");
      const lines = stderr.trim().split("\n");
      assertEquals(lines.length, 1, stderr);
      assert(
        lines[0]!.startsWith(
          "error: Cannot reach Redis at redis://ann:***@127.0.0.1:1/4: ",
        ),
        stderr,
      );
      assert(lines[0]!.includes("Check that Redis runs there"), stderr);
      assert(!stderr.includes("s3cret"));
    },
  });

  Deno.test({
    name:
      `main.ts --redis answers /readyz 503 while Redis is down, and works again when it is back (${command.name})`,
    ignore,
    async fn() {
      await using redis = await startRedisServer({ durable: true });
      await using server = await startChildServer(command, [
        "--redis",
        redis.url,
      ]);
      assertEquals((await send(server.httpUrl, "before")).status, 200);
      await redis.kill();
      await eventually(
        async () => (await readyStatus(server.httpUrl)).status === 503,
        "/readyz to answer 503",
        8000,
      );
      assertEquals((await readMetrics(server.httpUrl)).get("chat_redis_up"), 0);
      const failed = await send(server.httpUrl, "while down");
      assert(failed.status >= 500, JSON.stringify(failed));
      await redis.restart();
      await eventually(
        async () => (await readyStatus(server.httpUrl)).status === 200,
        "/readyz to answer 200 again",
        8000,
      );
      const ready = await readyStatus(server.httpUrl);
      assertEquals(ready.body, { status: "ready" });
      const after = await send(server.httpUrl, "after");
      assertEquals([after.status, after.body.id], [200, 2]);
    },
  });
}

Deno.test({
  name: "main.ts refuses --db together with --redis",
  async fn() {
    const { code, stderr } = await runToEnd(SERVER_COMMANDS[0]!, [
      "--redis",
      "redis://127.0.0.1:6379",
      "--db",
      "x.db",
    ]);
    assertEquals(code, 2);
    assert(
      stderr.startsWith("error: --db and --redis cannot be used together"),
      stderr,
    );
  },
});
