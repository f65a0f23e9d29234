import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { MemoryStore } from "../lib/store/memory.ts";
import { readReply, startServer } from "./_helpers.ts";
import { TARGETS } from "./_targets.ts";

for (const target of TARGETS) {
  Deno.test(`GET /healthz and GET /readyz (${target.name})`, async (t) => {
    await using chat = await target.start();

    await t.step("answer 200 while the server runs", async () => {
      assertEquals(await chat.get("/healthz"), {
        status: 200,
        headers: (await chat.get("/healthz")).headers,
        body: { status: "ok" },
      });
      const ready = await chat.get("/readyz");
      assertEquals([ready.status, ready.body], [200, { status: "ready" }]);
    });

    await t.step(
      "/readyz is 503 and upgrades are refused while shutting down",
      async () => {
        // A request still in flight holds the shutdown open.
        const body = new TransformStream<Uint8Array, Uint8Array>();
        const writer = body.writable.getWriter();
        const inFlight = fetch(`${chat.httpUrl}/send`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: body.readable,
        });
        await writer.write(new TextEncoder().encode('{"room_id": "r", '));
        await new Promise((resolve) => setTimeout(resolve, 100)); // it arrives
        const stopped = chat.shutdown();

        const deadline = Date.now() + 2000;
        let ready;
        do ready = await chat.get("/readyz"); while (
          ready.status === 200 && Date.now() < deadline
        );
        assertEquals([ready.status, ready.body], [503, {
          error: "server shutting down",
        }]);
        const upgrade = await fetch(chat.httpUrl, {
          headers: { upgrade: "websocket" },
        });
        assertEquals([upgrade.status, await upgrade.json()], [503, {
          error: "server shutting down",
        }]);
        assertEquals((await chat.get("/healthz")).status, 200);

        await writer.write(
          new TextEncoder().encode('"from": "W", "message": "last"}'),
        );
        await writer.close();
        const last = await readReply(await inFlight);
        assertEquals([last.status, last.body.message], [200, "last"]);
        await stopped;
      },
    );
  });

  Deno.test(`GET /metrics counts what happens (${target.name})`, async () => {
    await using chat = await target.start({ "rate-limit": 1 });
    const response = await fetch(`${chat.httpUrl}/metrics`);
    await response.body?.cancel();
    assertEquals(
      response.headers.get("content-type"),
      "text/plain; version=0.0.4; charset=utf-8",
    );
    const before = await chat.metrics();
    assertEquals(before.get("chat_connections_open"), 0);

    const ann = await chat.connect();
    const bob = await chat.connect();
    await ann.join("r", "Ann");
    await bob.join("r", "Bob");
    await ann.next();
    ann.send({
      type: "send-message",
      room_id: "r",
      from: "Ann",
      message: "hi",
    });
    await ann.next();
    await bob.next();
    bob.send("not json");
    await bob.next();
    // Every frame spends from the burst of 2: Ann's join and "hi" took it.
    ann.send({ type: "send-message", room_id: "r", from: "Ann", message: "2" });
    await ann.next();
    await chat.post("/send", { room_id: "r", from: "Curl", message: "m" });
    await chat.get("/nope");

    const after = await chat.metrics();
    assertEquals(after.get("chat_connections_open"), 2);
    assertEquals(after.get("chat_connections_opened_total"), 2);
    assertEquals(after.get("chat_rooms"), 1);
    assertEquals(after.get("chat_room_members"), 2);
    assertEquals(
      after.get('chat_messages_received_total{transport="websocket"}'),
      1,
    );
    assertEquals(
      after.get('chat_messages_received_total{transport="rest"}'),
      1,
    );
    assertEquals(after.get("chat_messages_delivered_total"), 4);
    assertEquals(after.get('chat_errors_total{reason="invalid_json"}'), 1);
    assertEquals(after.get('chat_errors_total{reason="rate_limited"}'), 1);
    assertEquals(after.get('chat_errors_total{reason="http_404"}'), 1);
    assertEquals(
      after.get('chat_rate_limited_total{transport="websocket"}'),
      1,
    );
    assertEquals(after.get("chat_store_write_seconds_count"), 2);
    assert(after.get("chat_uptime_seconds")! > 0);

    await bob.close();
    const deadline = Date.now() + 2000;
    let closed;
    do {
      closed = await chat.metrics();
    } while (
      closed.get("chat_connections_open") !== 1 && Date.now() < deadline
    );
    assertEquals(closed.get('chat_connections_closed_total{code="1005"}'), 1);
    assertEquals(closed.get("chat_room_members"), 1);
  });
}

for (const target of TARGETS) {
  Deno.test(`close codes that clients choose share a few series (${target.name})`, async () => {
    await using chat = await target.start();
    const codes = [1000, 3000, 3999, 4000, 4001, 4999];
    for (const code of codes) {
      const client = await chat.connect();
      client.socket.close(code, "bye");
      await client.closed;
    }
    const deadline = Date.now() + 2000;
    let metrics;
    do metrics = await chat.metrics(); while (
      metrics.get("chat_connections_open") !== 0 && Date.now() < deadline
    );
    const closed = [...metrics].filter(([name]) =>
      name.startsWith("chat_connections_closed_total")
    );
    assertEquals(Object.fromEntries(closed), {
      'chat_connections_closed_total{code="1000"}': 1,
      'chat_connections_closed_total{code="3xxx"}': 2,
      'chat_connections_closed_total{code="4xxx"}': 3,
    });
  });

  Deno.test(`GET /metrics with --metrics-token (${target.name})`, async (t) => {
    await using chat = await target.start({ "metrics-token": "s3cret-token" });
    const scrape = (headers: HeadersInit, method = "GET") =>
      fetch(`${chat.httpUrl}/metrics`, { method, headers });

    await t.step("without the token: 401 in JSON", async () => {
      for (const headers of [{}, { authorization: "Bearer wrong" }]) {
        const reply = await readReply(await scrape(headers));
        assertEquals(reply.status, 401);
        assertEquals(
          reply.headers.get("www-authenticate"),
          'Bearer realm="metrics"',
        );
        assertEquals(
          reply.body.error,
          "GET /metrics needs the header Authorization: Bearer <token>, with the server's --metrics-token",
        );
      }
      const head = await scrape({}, "HEAD");
      assertEquals(head.status, 401);
      await head.body?.cancel();
    });

    await t.step("with it: the metrics", async () => {
      const response = await scrape({ authorization: "Bearer s3cret-token" });
      assertEquals(response.status, 200);
      assert((await response.text()).includes("chat_connections_open 0"));
    });

    await t.step("other endpoints ask for no token", async () => {
      assertEquals((await chat.get("/healthz")).status, 200);
    });
  });

  Deno.test(`HEAD is GET without the body, wherever GET is (${target.name})`, async () => {
    await using chat = await target.start();
    await chat.post("/send", { room_id: "r", from: "W", message: "m" });
    const cases: [string, number, string | null][] = [
      ["/rooms", 200, "application/json"],
      ["/rooms/r", 200, "application/json"],
      ["/healthz", 200, "application/json"],
      ["/metrics", 200, "text/plain; version=0.0.4; charset=utf-8"],
      ["/", 200, "text/html; charset=utf-8"],
      ["/openapi.json", 200, "application/json"],
      ["/rooms/nowhere", 404, "application/json"],
      ["/send", 405, "application/json"],
      ["/nowhere", 404, "application/json"],
    ];
    for (const [path, status, type] of cases) {
      const response = await fetch(`${chat.httpUrl}${path}`, {
        method: "HEAD",
      });
      assertEquals(
        [response.status, response.headers.get("content-type")],
        [status, type],
        path,
      );
      assertEquals(await response.text(), "", path);
      if (status === 405) {
        assertEquals(response.headers.get("allow"), "POST, OPTIONS");
      }
    }
    const get = await fetch(`${chat.httpUrl}/rooms`);
    assertEquals(get.headers.get("allow"), null);
    await get.body?.cancel();
  });
}

// In process only: a store that fails on purpose cannot be handed to a
// server in another process.
Deno.test("GET /readyz is 503 when the store does not answer", async () => {
  class UnreachableStore extends MemoryStore {
    override ping(): Promise<void> {
      return Promise.reject(new Error("connection refused"));
    }
  }
  await using chat = await startServer({ store: new UnreachableStore() });
  const ready = await chat.get("/readyz");
  assertEquals([ready.status, ready.body], [503, {
    error: "store unreachable: connection refused",
  }]);
});
