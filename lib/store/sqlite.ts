import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { StoredMessage } from "../contract.ts";
import { unixSeconds } from "../clock.ts";
import { migrate } from "./_sqlite_schema.ts";
import { prepareStatements, type Statements } from "./_sqlite_statements.ts";
import { transaction } from "./_transaction.ts";
import { Batcher } from "./batcher.ts";
import type {
  MessageDraft,
  MessagePage,
  MessageStore,
  PruneOptions,
  ReadOptions,
  RoomsOptions,
  RoomsPage,
  RoomStats,
} from "./store.ts";
import { StoreOpenError } from "./store_open_error.ts";
import { StoreUnavailableError } from "./store_unavailable_error.ts";

/** Options of {@linkcode SqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * The database file, created with its directory if missing. `":memory:"`
   * gives a private in-memory database, which is gone when it is closed.
   */
  path: string;
  /**
   * The clock that stamps `sent_at`, in unix seconds.
   * @default {unixSeconds}
   */
  now?: (() => number) | undefined;
  /**
   * Longest a message waits, in milliseconds, while another program holds
   * the database's write lock; then it is refused with a
   * {@linkcode StoreUnavailableError}.
   * @default {5000}
   */
  busyTimeoutMs?: number | undefined;
}

/**
 * How long one statement may wait for a lock inside SQLite. `node:sqlite`
 * is synchronous, so that wait blocks the event loop, every client's
 * frames included: it is kept to a few milliseconds, enough for the
 * moment a backup or the `sqlite3` shell takes to commit, and longer
 * waits are retried from a timer instead, with the loop free between tries.
 */
const SQLITE_BUSY_WAIT_MS = 10;

/**
 * The wait before the next try of a batch that found the database locked:
 * a quarter of the time it has waited so far, from 10 ms up to 250 ms.
 */
function retryDelay(waitedMs: number): number {
  return Math.min(250, Math.max(10, waitedMs / 4));
}

/** A stamped message on its way into the database, which gives it its id. */
type Unsaved = Omit<StoredMessage, "id">;

/**
 * Keeps messages in an SQLite database file, through `node:sqlite`, which
 * Deno, Node and Bun all provide.
 *
 * The messages that arrive in one turn of the event loop are written in one
 * transaction, and each `append()` resolves only after that commit: what a
 * client has received is in the database, even if the process is killed a
 * moment later. The file is in WAL mode, so a backup or the `sqlite3` shell
 * can read it while the server writes.
 */
export class SqliteStore implements MessageStore {
  /** The database file, as an absolute path (or `":memory:"`). */
  readonly path: string;
  #db: DatabaseSync;
  #sql: Statements;
  #batcher: Batcher<Unsaved, StoredMessage>;
  #now: () => number;
  #commits = 0;
  #closed = false;

  /**
   * Opens (or creates) the database and brings its schema up to date.
   *
   * @throws {StoreOpenError} if the file cannot be opened or written
   */
  constructor(options: SqliteStoreOptions) {
    this.path = options.path === ":memory:"
      ? ":memory:"
      : resolve(options.path);
    this.#db = openDatabase(this.path);
    this.#sql = prepareStatements(this.#db);
    this.#now = options.now ?? unixSeconds;
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.#batcher = new Batcher((messages) => this.#insert(messages), {
      retry(error, failedSince) {
        const waited = performance.now() - failedSince;
        if (!isBusy(error) || waited >= busyTimeoutMs) return undefined;
        return Math.min(retryDelay(waited), busyTimeoutMs - waited);
      },
    });
  }

  /** How many write transactions have stored messages; for tests and metrics. */
  get commits(): number {
    return this.#commits;
  }

  /** Stores a message; resolves once the transaction holding it committed. */
  append(draft: MessageDraft): Promise<StoredMessage> {
    if (this.#closed) {
      return Promise.reject(new Error("The message store is closed"));
    }
    return this.#batcher.add({
      room_id: draft.room_id,
      from: draft.from,
      message: draft.message,
      sent_at: this.#now(),
    });
  }

  /** A page of a room's messages, oldest first. */
  read(roomId: string, options: ReadOptions = {}): Promise<MessagePage> {
    return attempt(() => this.#read(roomId, options));
  }

  #read(roomId: string, options: ReadOptions): MessagePage {
    const { after = 0, before = Number.MAX_SAFE_INTEGER, limit } = options;
    const statement = options.keep === "oldest"
      ? this.#sql.oldest
      : this.#sql.newest;
    // One row more than asked for tells whether there are more.
    const rows = statement.all(roomId, after, before, sqlLimit(limit, 1));
    const has_more = limit !== undefined && rows.length > limit;
    if (has_more) rows.pop();
    if (options.keep !== "oldest") rows.reverse();
    // Rows have a null prototype; callers get plain objects.
    const messages = rows.map((row) => ({ ...row }) as StoredMessage);
    return { messages, has_more };
  }

  /** A page of the rooms that hold messages, in the order of the first. */
  rooms(options: RoomsOptions): Promise<RoomsPage> {
    const { after = 0, limit } = options;
    return attempt(() => {
      // One row more than asked for tells whether there are more.
      const rows = this.#sql.roomsAfter.all(after, limit + 1) as {
        seq: number;
        room_id: string;
      }[];
      const page = rows.slice(0, limit);
      const rooms = page.map((row) => row.room_id);
      if (rows.length <= limit) return { rooms };
      return { rooms, next: page.at(-1)!.seq };
    });
  }

  /** How many messages a room holds and when the last one was sent. */
  stats(roomId: string): Promise<RoomStats> {
    return attempt(() => {
      const row = this.#sql.stats.get(roomId) as RoomStats | undefined;
      return {
        message_count: row?.message_count ?? 0,
        last_message_at: row?.last_message_at ?? null,
      };
    });
  }

  /** How many rooms hold messages. */
  roomCount(): Promise<number> {
    return attempt(() => {
      const row = this.#sql.roomCount.get() as { count: number };
      return row.count;
    });
  }

  /**
   * Resolves if the database can be written now: it takes the write lock
   * and lets it go at once. Rejects with a {@linkcode StoreUnavailableError}
   * while another program holds the lock, or the file cannot be written.
   */
  ping(): Promise<void> {
    return attempt(() => transaction(this.#db, () => {}));
  }

  /** Removes the oldest messages beyond the limits, in one transaction. */
  prune(options: PruneOptions): Promise<number> {
    return attempt(() => this.#prune(options));
  }

  #prune(options: PruneOptions): number {
    const { maxPerRoom, sentBefore, limit = Infinity } = options;
    return transaction(this.#db, () => {
      let removed = 0;
      if (sentBefore !== undefined) {
        const { changes } = this.#sql.pruneOld.run(
          sentBefore,
          sqlLimit(limit),
        );
        removed += Number(changes);
      }
      if (maxPerRoom === undefined) return removed;
      const rooms = this.#sql.overfull.all(maxPerRoom, maxPerRoom) as {
        room_id: string;
        excess: number;
      }[];
      for (const { room_id, excess } of rooms) {
        if (removed >= limit) break;
        const count = Math.min(excess, limit - removed);
        removed += Number(this.#sql.pruneRoom.run(room_id, count).changes);
      }
      return removed;
    });
  }

  /** Writes the messages still waiting, then closes the database. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#batcher.flush();
    this.#db.close();
    return Promise.resolve();
  }

  #insert(messages: Unsaved[]): StoredMessage[] {
    try {
      return this.#insertAll(messages);
    } catch (error) {
      throw unavailable(error);
    }
  }

  #insertAll(messages: Unsaved[]): StoredMessage[] {
    const stored = transaction(this.#db, () => {
      const added = new Map<string, number>();
      const stored = messages.map((message) => {
        const { room_id, from, sent_at } = message;
        const { lastInsertRowid } = this.#sql.insert.run(
          room_id,
          from,
          message.message,
          sent_at,
        );
        added.set(room_id, (added.get(room_id) ?? 0) + 1);
        return { ...message, id: Number(lastInsertRowid) };
      });
      for (const [roomId, count] of added) {
        this.#sql.countIn.run(roomId, count);
      }
      return stored;
    });
    this.#commits++;
    return stored;
  }
}

/**
 * Opens the file in WAL mode and migrates it, turning every failure into a
 * {@linkcode StoreOpenError} that names the file.
 */
function openDatabase(path: string): DatabaseSync {
  if (path !== ":memory:") {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      throw new StoreOpenError(
        path,
        `its directory cannot be created (${(error as Error).message})`,
        { cause: error },
      );
    }
  }
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    // In WAL mode, NORMAL makes a commit survive the process being killed
    // (the data is with the OS); only an OS crash or a power cut can undo
    // the last commits. FULL survives those too, but waits for an fsync on
    // every batch, which scripts/store_throughput.ts shows to cost several
    // times what the rest of the store costs.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    db.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_WAIT_MS}`);
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw new StoreOpenError(path, (error as Error).message, { cause: error });
  }
}

/** A `LIMIT` value: SQLite spells "no limit" as -1. */
function sqlLimit(limit: number | undefined, extra = 0): number {
  return limit === undefined || limit === Infinity ? -1 : limit + extra;
}

/**
 * Runs a synchronous step of the store as a promise, turning a failure that
 * may pass into a {@linkcode StoreUnavailableError}.
 */
function attempt<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (error) {
    return Promise.reject(unavailable(error));
  }
}

/** Whether SQLite failed for a lock another connection holds. */
function isBusy(error: unknown): boolean {
  // Bun's node:sqlite gives the result code (SQLITE_BUSY, SQLITE_LOCKED);
  // Deno's gives only the message.
  const { errcode, message, cause } = error as {
    errcode?: number;
    message?: string;
    cause?: unknown;
  };
  return errcode === 5 || errcode === 6 ||
    /database (table )?is locked/.test(message ?? "") ||
    (error instanceof StoreUnavailableError && isBusy(cause));
}

/**
 * The {@linkcode StoreUnavailableError} for a failure of SQLite that may
 * pass (a lock, a full disk, a file made read-only); other errors as they
 * are.
 */
function unavailable(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof StoreUnavailableError) {
    return error;
  }
  if (isBusy(error)) {
    return new StoreUnavailableError(
      "the message store is busy: another program is writing to the database; try again in a moment",
      { cause: error },
    );
  }
  if (/full|readonly|read-only|disk I\/O|unable to open/i.test(error.message)) {
    return new StoreUnavailableError(
      `the message store cannot write: ${error.message}`,
      { cause: error },
    );
  }
  return error;
}
