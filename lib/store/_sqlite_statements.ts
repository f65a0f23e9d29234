/**
 * Every statement the SQLite store runs. Each one that reads or deletes
 * messages finds them through an index; `tests/sqlite_store_test.ts`
 * checks the query plans.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

const COLUMNS = `room_id, sender AS "from", message, sent_at, id`;

/** The SQL of each statement, by name; `?` placeholders are bound per call. */
export const SQL = {
  insert: `INSERT INTO messages (room_id, sender, message, sent_at)
    VALUES (?, ?, ?, ?)`,
  /** Counts a batch's messages into their room, creating it if new. */
  countIn: `INSERT INTO rooms (room_id, message_count) VALUES (?, ?)
    ON CONFLICT (room_id)
    DO UPDATE SET message_count = message_count + excluded.message_count`,
  newest: `SELECT ${COLUMNS} FROM messages
    WHERE room_id = ? AND id > ? AND id < ? ORDER BY id DESC LIMIT ?`,
  oldest: `SELECT ${COLUMNS} FROM messages
    WHERE room_id = ? AND id > ? AND id < ? ORDER BY id LIMIT ?`,
  /** A page of rooms: found by the primary key, however many there are. */
  roomsAfter: `SELECT seq, room_id FROM rooms WHERE seq > ? ORDER BY seq
    LIMIT ?`,
  roomCount: `SELECT count(*) AS count FROM rooms`,
  stats: `SELECT message_count,
      (SELECT sent_at FROM messages WHERE messages.room_id = rooms.room_id
       ORDER BY id DESC LIMIT 1) AS last_message_at
    FROM rooms WHERE room_id = ?`,
  pruneOld: `DELETE FROM messages WHERE id IN
    (SELECT id FROM messages WHERE sent_at < ? ORDER BY sent_at LIMIT ?)`,
  overfull: `SELECT room_id, message_count - ? AS excess FROM rooms
    WHERE message_count > ?`,
  pruneRoom: `DELETE FROM messages WHERE id IN
    (SELECT id FROM messages WHERE room_id = ? ORDER BY id LIMIT ?)`,
} as const;

/** The statements of {@linkcode SQL}, each compiled once on `db`. */
export type Statements = Record<keyof typeof SQL, StatementSync>;

/** Compiles every statement of {@linkcode SQL} on `db`. */
export function prepareStatements(db: DatabaseSync): Statements {
  const entries = Object.entries(SQL).map(([name, sql]) => [
    name,
    db.prepare(sql),
  ]);
  return Object.fromEntries(entries) as Statements;
}
