/**
 * `POST /receive` against clients that never read: a page is bounded in
 * bytes as well as in messages, history reads are rate-limited per IP, and a
 * page not read within `--write-timeout` is cut off.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { SERVER_COMMANDS, startChildServer } from "./_child_server.ts";
import { openClient, type TestServer } from "./_helpers.ts";
import { readResponse, tcpConnect } from "./_raw_socket.ts";
import { flagArgs, NO_RATE_LIMITS, TARGETS } from "./_targets.ts";

/** Every rate limit off but that of history reads, for quick filling. */
const FILL_FAST = { ...NO_RATE_LIMITS, "history-rate-limit": 30 };

const MiB = 1024 * 1024;
/** 10 KB of UTF-8 and of JSON: the longest message of two-byte letters. */
const LONG_MESSAGE = "é".repeat(5000);

/** The server's resident memory, in bytes, from /proc. */
async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Stores `count` long messages in `roomId`, 50 at a time over a WebSocket. */
async function fill(wsUrl: string, roomId: string, count: number) {
  const client = await openClient(wsUrl);
  try {
    await client.join(roomId, "Filler");
    for (let sent = 0; sent < count; sent += 50) {
      const batch = Math.min(50, count - sent);
      for (let i = 0; i < batch; i++) {
        client.send({
          type: "send-message",
          room_id: roomId,
          from: "Filler",
          message: LONG_MESSAGE,
        });
      }
      for (let i = 0; i < batch; i++) {
        const frame = await client.next();
        if (frame.type !== "receive-message") {
          throw new Error(`not stored: ${JSON.stringify(frame)}`);
        }
      }
    }
  } finally {
    await client.close();
  }
}

/** A raw `POST /receive` of a room's default page, never read. */
async function unreadPage(httpUrl: string, roomId: string) {
  const conn = await tcpConnect(httpUrl);
  const body = JSON.stringify({ room_id: roomId });
  await conn.write(
    new TextEncoder().encode(
      `POST /receive HTTP/1.1\r\nHost: chat.test\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ),
  );
  return conn;
}

for (const command of SERVER_COMMANDS) {
  Deno.test(`clients that never read POST /receive hold a page each at most (${command.name})`, async () => {
    await using server = await startChildServer(command, [
      "--log-level=warn",
      ...flagArgs(FILL_FAST),
      "--db=:memory:",
    ]);
    // 1000 messages of 10 KB: a page of 10 MB without a byte limit.
    await fill(server.wsUrl, "big", 1000);
    const before = await rssOf(server.pid);
    const readers: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 100; i++) {
        readers.push(await unreadPage(server.httpUrl, "big"));
      }
      // Every request is answered: the server is not stuck.
      assertEquals((await fetch(`${server.httpUrl}/healthz`)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const grown = (await rssOf(server.pid)) - before;
      // On main each held its 10 MB page: about 1 GB.
      assert(grown < 250 * MiB, `grew ${(grown / MiB).toFixed(0)} MiB`);
    } finally {
      for (const reader of readers) reader.close();
    }
  });
}

/** `POST /receive` of `roomId` with these paging fields; the reply's body. */
async function receive(chat: TestServer, body: object) {
  const response = await fetch(`${chat.httpUrl}/receive`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, bytes: text.length, ...JSON.parse(text) };
}

for (const target of TARGETS) {
  Deno.test(`POST /receive pages are bounded in bytes (${target.name})`, async (t) => {
    await using chat = await target.start({
      ...FILL_FAST,
      "page-max-bytes": 65536,
    });
    await fill(chat.wsUrl, "big", 20);

    await t.step("the newest that fit, and has_more", async () => {
      const page = await receive(chat, { room_id: "big" });
      assertEquals(page.status, 200);
      assert(page.bytes <= 65536, `${page.bytes} bytes`);
      assertEquals(page.messages.length, 6);
      assertEquals(page.has_more, true);
    });

    await t.step(
      "paging back with before gets every message once",
      async () => {
        const ids: number[] = [];
        let before: number | undefined;
        for (;;) {
          const page = await receive(chat, { room_id: "big", before });
          ids.unshift(...page.messages.map((m: { id: number }) => m.id));
          if (!page.has_more) break;
          before = page.messages[0].id;
        }
        assertEquals(ids.length, 20);
        assertEquals(new Set(ids).size, 20);
      },
    );

    await t.step("paging forward with after, likewise", async () => {
      const page = await receive(chat, { room_id: "big", after: 0 });
      assertEquals([page.messages.length, page.has_more], [6, true]);
    });
  });

  Deno.test(`POST /receive is rate-limited per IP (${target.name})`, async () => {
    await using chat = await target.start({ "history-rate-limit": 1 });
    // A burst of twice the rate, then 429 with Retry-After.
    assertEquals((await chat.post("/receive", { room_id: "r" })).status, 200);
    assertEquals((await chat.post("/receive", { room_id: "r" })).status, 200);
    const refused = await chat.post("/receive", { room_id: "r" });
    assertEquals(refused.status, 429);
    assertEquals(refused.headers.get("retry-after"), "1");
    assertEquals(refused.body, {
      error:
        "rate limited: too many history reads from 127.0.0.1; retry in 1 s",
    });
    // Sending is not limited by it.
    const sent = await chat.post("/send", {
      room_id: "r",
      from: "W",
      message: "m",
    });
    assertEquals(sent.status, 200);
  });

  Deno.test(`a page not read within --write-timeout is cut off (${target.name})`, async () => {
    await using chat = await target.start({
      ...FILL_FAST,
      "page-max-bytes": 16 * MiB,
      "write-timeout": 1,
    });
    await fill(chat.wsUrl, "big", 1000);
    using conn = await unreadPage(chat.httpUrl, "big");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Deno closes the connection at the deadline; Bun once its idle
    // timeout (10 s without progress) passes.
    const wait = target.runtime === "bun" ? 15_000 : 3000;
    const reply = await readResponse(conn, wait).catch((error) => error);
    assert(
      reply instanceof Error && /closed mid-response/.test(reply.message),
      `the whole page arrived: ${String(reply).slice(0, 200)}`,
    );
  });
}
