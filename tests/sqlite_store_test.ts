import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
  throws as assertThrows,
} from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate, SCHEMA_VERSION } from "../lib/store/_sqlite_schema.ts";
import { SQL } from "../lib/store/_sqlite_statements.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import type { MessageDraft } from "../lib/store/store.ts";
import { StoreOpenError } from "../lib/store/store_open_error.ts";
import { tempDir, within } from "./_helpers.ts";

/** Opens a store that `await using` closes. */
function openStore(path: string): SqliteStore & AsyncDisposable {
  const store = new SqliteStore({ path });
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
}

/** Reads one value through a second connection, as another process would. */
function peek(path: string, sql: string): unknown {
  const db = new DatabaseSync(path);
  try {
    return Object.values(db.prepare(sql).get() ?? {})[0];
  } finally {
    db.close();
  }
}

const draft = (message: string) => ({ room_id: "r", from: "A", message });

/** Appends one message, waiting a bounded time for its commit. */
function append(store: SqliteStore, message: MessageDraft) {
  return within(store.append(message), "the commit");
}

Deno.test("SqliteStore.append() writes one turn's messages in one transaction", async () => {
  await using dir = await tempDir();
  await using store = openStore(`${dir.path}/chat.db`);
  const stored = await within(
    Promise.all(
      Array.from({ length: 100 }, (_, i) => store.append(draft(`${i}`))),
    ),
    "the batch",
  );
  assertEquals(store.commits, 1);
  assertEquals(
    stored.map((message) => message.id),
    stored.map((_, i) => i + 1),
  );
  await append(store, draft("next turn"));
  assertEquals(store.commits, 2);
});

Deno.test("SqliteStore.append() resolves only once the message is committed", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/chat.db`;
  await using store = openStore(path);
  const count = "SELECT COUNT(*) FROM messages";
  const pending = store.append(draft("hello"));
  assertEquals(peek(path, count), 0, "not visible before the commit");
  await within(pending, "the commit");
  assertEquals(peek(path, count), 1, "visible to another connection");
});

Deno.test("SqliteStore keeps messages and ids across reopening", async (t) => {
  await using dir = await tempDir();
  const path = `${dir.path}/chat.db`;

  await t.step("messages and stats are read back", async () => {
    {
      await using store = openStore(path);
      await append(store, draft("one"));
      await append(store, { room_id: "s", from: "B", message: "two" });
    }
    await using store = openStore(path);
    const page = await store.read("r");
    assertEquals(page.messages.map((message) => message.message), ["one"]);
    assertEquals(await store.rooms({ limit: 10 }), { rooms: ["r", "s"] });
    assertEquals((await store.stats("s")).message_count, 1);
  });

  await t.step("ids continue, even after the newest were pruned", async () => {
    {
      await using store = openStore(path);
      await store.prune({ sentBefore: Infinity });
      assertEquals(await store.rooms({ limit: 10 }), { rooms: [] });
    }
    await using store = openStore(path);
    assertEquals((await append(store, draft("three"))).id, 3);
  });

  await t.step("close() writes the messages still waiting", async () => {
    {
      const store = openStore(path);
      const pending = store.append(draft("last words"));
      await store.close();
      assertEquals((await within(pending, "the flush")).message, "last words");
    }
    await using store = openStore(path);
    const page = await store.read("r", { limit: 1 });
    assertEquals(page.messages[0]?.message, "last words");
  });

  await t.step("append() is refused once closed", async () => {
    const store = openStore(path);
    await store.close();
    await assertRejects(
      within(store.append(draft("late")), "the refusal"),
      /store is closed/,
    );
  });
});

Deno.test("SqliteStore opens the file in WAL mode", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/chat.db`;
  await using _store = openStore(path);
  assertEquals(peek(path, "PRAGMA journal_mode"), "wal");
});

Deno.test("SqliteStore migrates the schema", async (t) => {
  await using dir = await tempDir();

  await t.step("of a new file, creating its directory", async () => {
    const path = `${dir.path}/new/deeper/chat.db`;
    await using store = openStore(path);
    assertEquals(peek(path, "PRAGMA user_version"), SCHEMA_VERSION);
    assertEquals(store.path, path);
  });

  await t.step("of an empty file", async () => {
    const path = `${dir.path}/empty.db`;
    await Deno.writeFile(path, new Uint8Array());
    await using store = openStore(path);
    await append(store, draft("hi"));
    assertEquals(peek(path, "PRAGMA user_version"), SCHEMA_VERSION);
  });

  await t.step("of a current file: left as it is", async () => {
    const path = `${dir.path}/current.db`;
    {
      await using store = openStore(path);
      await append(store, draft("kept"));
    }
    await using store = openStore(path);
    assertEquals(peek(path, "PRAGMA user_version"), SCHEMA_VERSION);
    assertEquals((await store.read("r")).messages[0]?.message, "kept");
  });

  await t.step("but refuses a file from a newer version", () => {
    const path = `${dir.path}/newer.db`;
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 99");
    db.close();
    assertThrows(
      () => new SqliteStore({ path }),
      (error: unknown) =>
        error instanceof StoreOpenError && error.path === path &&
        error.message.includes("newer version") &&
        error.message.includes("schema version 99"),
    );
  });
});

Deno.test("SqliteStore reports a file it cannot use, naming it", async (t) => {
  await using dir = await tempDir();
  const garbage = `${dir.path}/garbage.db`;
  await Deno.writeTextFile(garbage, "this is not a database\n".repeat(20));
  const plainFile = `${dir.path}/plain.txt`;
  await Deno.writeTextFile(plainFile, "");

  const cases = [
    { what: "a corrupt file", path: garbage, reason: "not a database" },
    { what: "a directory", path: dir.path, reason: "unable to open" },
    {
      what: "a directory that cannot be created",
      path: `${plainFile}/chat.db`,
      reason: "directory cannot be created",
    },
  ];
  for (const { what, path, reason } of cases) {
    await t.step(what, () => {
      assertThrows(
        () => new SqliteStore({ path }),
        (error: unknown) => {
          assert(error instanceof StoreOpenError, String(error));
          assert(
            error.message.startsWith(
              `Cannot open the message database "${path}"`,
            ),
            error.message,
          );
          assert(error.message.includes(reason), error.message);
          return true;
        },
      );
    });
  }
});

Deno.test("SqliteStore statements find messages through an index", async (t) => {
  const db = new DatabaseSync(":memory:");
  migrate(db);
  try {
    for (const [name, sql] of Object.entries(SQL)) {
      await t.step(name, () => {
        const parameters = sql.split("?").length - 1;
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all(...Array(parameters).fill(1))
          .map((row) => String(row.detail));
        // A page of rooms must not read the rooms before it.
        const scans = plan.filter((step) =>
          /^SCAN messages|TEMP B-TREE/.test(step) ||
          (name === "roomsAfter" && /^SCAN/.test(step))
        );
        assertEquals(scans, [], plan.join(" | "));
      });
    }
  } finally {
    db.close();
  }
});
