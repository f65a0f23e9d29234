/**
 * `GET /rooms` on a server that has seen many rooms: one page, not all of
 * them, however many there are.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate } from "../lib/store/_sqlite_schema.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import { tempDir } from "./_helpers.ts";
import { TARGETS } from "./_targets.ts";

const ROOMS = 100_000;

/** A database file holding one message in each of `count` rooms. */
function databaseWithRooms(path: string, count: number): void {
  new SqliteStore({ path }).close();
  const db = new DatabaseSync(path);
  try {
    migrate(db);
    db.exec("BEGIN");
    const message = db.prepare(
      "INSERT INTO messages (room_id, sender, message, sent_at) VALUES (?, 'A', 'm', ?)",
    );
    const room = db.prepare(
      "INSERT INTO rooms (room_id, message_count) VALUES (?, 1)",
    );
    // Sent now: the default retention of 30 days keeps them.
    const now = Date.now() / 1000;
    for (let i = 0; i < count; i++) {
      message.run(`room ${i}`, now);
      room.run(`room ${i}`);
    }
    db.exec("COMMIT");
  } finally {
    db.close();
  }
}

for (const target of TARGETS) {
  Deno.test(`GET /rooms of ${ROOMS} rooms answers one page (${target.name})`, async () => {
    await using dir = await tempDir();
    const db = `${dir.path}/chat.db`;
    databaseWithRooms(db, ROOMS);
    await using chat = await target.start({ db });

    const first = await chat.get("/rooms");
    assertEquals(first.status, 200);
    // On main: all 100,000 rooms in one answer.
    assertEquals(first.body.rooms.length, 1000);
    assertEquals(first.body.rooms.slice(0, 2), ["room 0", "room 1"]);
    assertEquals(first.body.has_more, true);

    const last = await chat.get(`/rooms?limit=5&after=${ROOMS - 3}`);
    assertEquals(last.body, {
      rooms: ["room 99997", "room 99998", "room 99999"],
      has_more: false,
    });
    const middle = await chat.get(`/rooms?limit=2&after=${first.body.next}`);
    assertEquals(middle.body.rooms, ["room 1000", "room 1001"]);
    assert(middle.body.has_more);
  });
}
