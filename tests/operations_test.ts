import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { MemoryStore } from "../lib/store/memory.ts";
import { startServer, TARGETS, type TestServer } from "./_helpers.ts";

/** Reads `/metrics` into a map of series to value. */
async function scrape(chat: TestServer): Promise<Map<string, number>> {
  const response = await fetch(`${chat.httpUrl}/metrics`);
  assertEquals(
    response.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  const series = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

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
        chat.server.app.beginShutdown();
        const ready = await chat.get("/readyz");
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
      },
    );
  });

  Deno.test(`GET /metrics counts what happens (${target.name})`, async () => {
    await using chat = await target.start({ rateLimit: 1 });
    const before = await scrape(chat);
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
    ann.send("not json");
    await ann.next();
    ann.send({ type: "send-message", room_id: "r", from: "Ann", message: "2" });
    ann.send({ type: "send-message", room_id: "r", from: "Ann", message: "3" });
    await ann.take(2); // the burst of 2 lets "2" through and refuses "3"
    await chat.post("/send", { room_id: "r", from: "Curl", message: "m" });
    await chat.get("/nope");

    const after = await scrape(chat);
    assertEquals(after.get("chat_connections_open"), 2);
    assertEquals(after.get("chat_connections_opened_total"), 2);
    assertEquals(after.get("chat_rooms"), 1);
    assertEquals(after.get("chat_room_members"), 2);
    assertEquals(
      after.get('chat_messages_received_total{transport="websocket"}'),
      2,
    );
    assertEquals(
      after.get('chat_messages_received_total{transport="rest"}'),
      1,
    );
    assertEquals(after.get("chat_messages_delivered_total"), 6);
    assertEquals(after.get('chat_errors_total{reason="invalid_json"}'), 1);
    assertEquals(after.get('chat_errors_total{reason="rate_limited"}'), 1);
    assertEquals(after.get('chat_errors_total{reason="http_404"}'), 1);
    assertEquals(
      after.get('chat_rate_limited_total{transport="websocket"}'),
      1,
    );
    assertEquals(after.get("chat_store_write_seconds_count"), 3);
    assert(after.get("chat_uptime_seconds")! > 0);

    await bob.close();
    const deadline = Date.now() + 2000;
    let closed;
    do {
      closed = await scrape(chat);
    } while (
      closed.get("chat_connections_open") !== 1 && Date.now() < deadline
    );
    assertEquals(closed.get('chat_connections_closed_total{code="1005"}'), 1);
    assertEquals(closed.get("chat_room_members"), 1);
  });
}

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
