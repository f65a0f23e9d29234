/**
 * The SQLite schema, as the list of migrations that build it. The database
 * remembers how many it has run in `PRAGMA user_version`, so a file made by
 * an older version of the server is brought up to date when it is opened.
 * Append new migrations; never edit one that has shipped.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { transaction } from "./_transaction.ts";

const MIGRATIONS: readonly string[] = [
  // 1: messages, and the rooms that hold them.
  `
  -- AUTOINCREMENT: an id is never handed out twice, not even after the
  -- newest messages were pruned, so clients can resume from any id.
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    message TEXT NOT NULL,
    sent_at REAL NOT NULL
  ) STRICT;
  -- Serves every read of a room: paging, the newest message, pruning by count.
  CREATE INDEX messages_by_room ON messages (room_id, id);
  -- Serves pruning by age.
  CREATE INDEX messages_by_age ON messages (sent_at);

  -- Every room that holds messages; seq orders them by their first message.
  -- Appends count their messages in per batch (a trigger would run once per
  -- message, on the hot path); removals, which only pruning does, are
  -- counted out by the trigger, which also drops a room left empty.
  CREATE TABLE rooms (
    seq INTEGER PRIMARY KEY,
    room_id TEXT NOT NULL UNIQUE,
    message_count INTEGER NOT NULL
  ) STRICT;
  CREATE TRIGGER message_removed AFTER DELETE ON messages BEGIN
    UPDATE rooms SET message_count = message_count - 1
      WHERE room_id = OLD.room_id;
    DELETE FROM rooms WHERE room_id = OLD.room_id AND message_count = 0;
  END;
  `,
];

/** The schema version this server writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/**
 * Brings the schema up to {@linkcode SCHEMA_VERSION} in one transaction.
 * It always writes `user_version`, so an unwritable file fails here, at
 * start-up, rather than at the first message.
 *
 * @throws {Error} if the file was made by a newer version of the server
 */
export function migrate(db: DatabaseSync): void {
  transaction(db, () => {
    const { user_version } = db.prepare("PRAGMA user_version").get() as {
      user_version: number;
    };
    if (user_version > SCHEMA_VERSION) {
      throw new Error(
        `it was made by a newer version of this server (schema version ${user_version}; this version knows up to ${SCHEMA_VERSION})`,
      );
    }
    for (const migration of MIGRATIONS.slice(user_version)) db.exec(migration);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
}
