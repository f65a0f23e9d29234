/**
 * The SQLite file locked by another program (a backup, the `sqlite3`
 * shell): a short lock is waited out without blocking the server, a long
 * one refuses messages with a clear 503 or error frame, `/readyz` says so,
 * and the log says it once.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Logger } from "../lib/logger.ts";
import { StoreHealth } from "../lib/store_health.ts";
import { StoreUnavailableError } from "../lib/store/store_unavailable_error.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import { startServer, tempDir, type TestServer } from "./_helpers.ts";
import { TARGETS } from "./_targets.ts";

const BUSY_ERROR =
  "the message store is busy: another program is writing to the database; try again in a moment";

/** Holds the database's write lock from another connection until released. */
function lockDatabase(path: string): { release(): void } {
  const db = new DatabaseSync(path);
  db.exec("BEGIN IMMEDIATE");
  return {
    release() {
      db.exec("ROLLBACK");
      db.close();
    },
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function send(chat: TestServer, message: string) {
  return chat.post("/send", { room_id: "r", from: "W", message });
}

for (const target of TARGETS) {
  Deno.test(`a locked database file (${target.name})`, async (t) => {
    await using dir = await tempDir();
    const db = `${dir.path}/chat.db`;
    await using chat = await target.start({ db, "db-busy-timeout": 1 });
    assertEquals((await send(chat, "first")).status, 200);

    await t.step(
      "held for 200 ms: messages wait, the server answers meanwhile",
      async () => {
        const lock = lockDatabase(db);
        const sending = send(chat, "waited");
        // A server that waited inside SQLite could not answer this before the
        // lock goes; the lock goes only after it has answered.
        const health = await chat.get("/healthz");
        await delay(200);
        lock.release();
        assertEquals(health.status, 200);
        const sent = await sending;
        assertEquals([sent.status, sent.body.message], [200, "waited"]);
      },
    );

    await t.step(
      "held past --db-busy-timeout: 503, an error frame, /readyz 503",
      async () => {
        const client = await chat.connect();
        await client.join("r", "W");
        const lock = lockDatabase(db);
        try {
          const refused = await send(chat, "refused");
          assertEquals(refused.status, 503);
          assertEquals(refused.body, { error: BUSY_ERROR });
          assertEquals(refused.headers.get("retry-after"), "1");
          client.send({
            type: "send-message",
            room_id: "r",
            from: "W",
            message: "refused too",
          });
          assertEquals(await client.next(), {
            type: "error",
            error: BUSY_ERROR,
          });
          const ready = await chat.get("/readyz");
          assertEquals([ready.status, ready.body], [503, {
            error: BUSY_ERROR,
          }]);
        } finally {
          lock.release();
        }
        assertEquals((await chat.get("/readyz")).status, 200);
        assertEquals((await send(chat, "after")).status, 200);
        const history = await chat.post("/receive", { room_id: "r" });
        assertEquals(
          history.body.messages.map((m: { message: string }) => m.message),
          ["first", "waited", "after"],
        );
        await client.close();
      },
    );
  });
}

Deno.test("a failing store is logged once, and its recovery once", async () => {
  const lines: string[] = [];
  const logger = new Logger({ write: (line) => void lines.push(line) });
  await using dir = await tempDir();
  const path = `${dir.path}/chat.db`;
  const store = new SqliteStore({ path, busyTimeoutMs: 50 });
  await using chat = await startServer({ logger, store });
  const lock = lockDatabase(path);
  try {
    for (let i = 0; i < 3; i++) {
      assertEquals((await send(chat, `m${i}`)).status, 503);
    }
    assertEquals((await chat.get("/readyz")).status, 503);
  } finally {
    lock.release();
  }
  assertEquals((await send(chat, "back")).status, 200);
  const events = lines.map((line) => line.split(" ")[2]);
  assertEquals(events.filter((e) => e?.startsWith("store.")), [
    "store.failing",
    "store.recovered",
  ]);
  // Three messages and a readiness check (and maybe a pruning pass) were
  // refused meanwhile.
  const refused = /store\.recovered refused=(\d+)$/m.exec(lines.join("\n"));
  assert(
    refused && Number(refused[1]) >= 4,
    lines.join("\n"),
  );
});

Deno.test("StoreHealth counts only a StoreUnavailableError", () => {
  const lines: string[] = [];
  const health = new StoreHealth(
    new Logger({ write: (line) => void lines.push(line) }),
  );
  health.failed(new Error("a bug"));
  assertEquals(health.failing, undefined);
  const error = new StoreUnavailableError("disk full");
  health.failed(error);
  health.failed(new StoreUnavailableError("disk still full"));
  assertEquals(health.failing, error);
  health.succeeded();
  health.succeeded();
  assertEquals(health.failing, undefined);
  assertEquals(lines.length, 2);
});
