import type { DatabaseSync } from "node:sqlite";

/**
 * Runs `body` in one write transaction: committed if it returns, rolled
 * back if it (or the commit) throws.
 */
export function transaction<T>(db: DatabaseSync, body: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = body();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // Some errors (a full disk, say) make SQLite roll back by itself.
    }
    throw error;
  }
}
