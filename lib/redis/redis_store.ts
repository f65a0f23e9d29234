import type { StoredMessage } from "../contract.ts";
import { unixSeconds } from "../clock.ts";
import type {
  MessageDraft,
  MessagePage,
  MessageStore,
  PruneOptions,
  ReadOptions,
  RoomsOptions,
  RoomsPage,
  RoomStats,
} from "../store/store.ts";
import { clearImmediate, setImmediate } from "node:timers";
import appendSource from "./append_messages.lua" with { type: "text" };
import pruneSource from "./prune_room.lua" with { type: "text" };
import { LuaScript } from "./lua_script.ts";
import type { RedisClient, RedisConnection } from "./redis_connection.ts";
import { roomKeys, ROOMS_BY_AGE_KEY, ROOMS_KEY } from "./room_keys.ts";

const APPEND = new LuaScript(appendSource);
const PRUNE = new LuaScript(pruneSource);

/** Every this many messages a room is added to the indexes again. */
const REINDEX_EVERY = 100;

/** Most messages one append script call stores. */
const MAX_BATCH = 200;

/** A message on its way into Redis, which gives it its id. */
interface Unsaved extends MessageDraft {
  sent_at: number;
  pending: PromiseWithResolvers<StoredMessage>;
}

/** Rooms one prune call looks at per page of an index. */
const ROOMS_PER_PAGE = 100;

/** Options of {@linkcode RedisStore}. */
export interface RedisStoreOptions {
  /** The connection; the store closes it when it is closed. */
  connection: RedisConnection;
  /**
   * Most messages a room keeps: each append trims its room to this many
   * (`XADD ... MAXLEN`), so no pruning pass is needed for it.
   * @default {Infinity}
   */
  maxPerRoom?: number | undefined;
  /**
   * The clock that stamps `sent_at`, in unix seconds.
   * @default {unixSeconds}
   */
  now?: (() => number) | undefined;
  /** Called with the number of messages each append published. */
  onPublish?: ((count: number) => void) | undefined;
}

/**
 * Keeps messages in Redis, one stream per room, so that any number of
 * server instances share one history. See `lib/redis/README.md`.
 *
 * A script stores each message and publishes it on its room's sharded
 * channel in one atomic step. Ids are consecutive within a room (1, 2,
 * 3...), not across the server as in SQLite. Every command has a deadline:
 * while Redis is unreachable, `append()`, `read()` and `ping()` reject with
 * a `StoreUnavailableError` within it, and work again once Redis is back.
 */
export class RedisStore implements MessageStore {
  #redis: RedisConnection;
  #maxPerRoom: number;
  #now: () => number;
  #onPublish: (count: number) => void;
  /** Messages of this turn, by room, waiting to be sent. */
  #batches = new Map<string, Unsaved[]>();
  #flushing: ReturnType<typeof setImmediate> | undefined;
  /** Script calls sent and not yet answered (they never reject). */
  #sending = new Set<Promise<void>>();
  /** Where the next sweep for `maxPerRoom` resumes: a `chat:rooms` score. */
  #sweepFrom = "-inf";

  /** Creates the store over an open connection. */
  constructor(options: RedisStoreOptions) {
    this.#redis = options.connection;
    this.#maxPerRoom = options.maxPerRoom ?? Infinity;
    this.#now = options.now ?? unixSeconds;
    this.#onPublish = options.onPublish ?? (() => {});
  }

  /**
   * Stores a message and publishes it on its room's channel; resolves with
   * its id once Redis has it (and, with `appendfsync always`, its disk).
   * The messages of a room that arrive in one turn of the event loop go in
   * one script call; a room's appends resolve in the order of their ids.
   */
  append(draft: MessageDraft): Promise<StoredMessage> {
    const pending = Promise.withResolvers<StoredMessage>();
    const unsaved = { ...draft, sent_at: this.#now(), pending };
    const batch = this.#batches.get(draft.room_id);
    if (batch) batch.push(unsaved);
    else this.#batches.set(draft.room_id, [unsaved]);
    this.#flushing ??= setImmediate(() => this.#flush());
    return pending.promise;
  }

  /** Sends every room's waiting messages, one script call per room. */
  #flush(): void {
    this.#flushing = undefined;
    const batches = this.#batches;
    this.#batches = new Map();
    for (const [roomId, messages] of batches) {
      for (let i = 0; i < messages.length; i += MAX_BATCH) {
        const sending = this.#appendBatch(
          roomId,
          messages.slice(i, i + MAX_BATCH),
        );
        this.#sending.add(sending);
        sending.finally(() => this.#sending.delete(sending));
      }
    }
  }

  async #appendBatch(roomId: string, messages: Unsaved[]): Promise<void> {
    const keys = roomKeys(roomId);
    const maxLength = this.#maxPerRoom === Infinity ? 0 : this.#maxPerRoom;
    const args = [keys.channel, roomId, String(maxLength)];
    for (const { from, message, sent_at } of messages) {
      args.push(from, message, String(sent_at));
    }
    let first, created;
    try {
      [first, created] = await this.#redis.run(
        "append",
        (client) =>
          APPEND.run(client, [keys.stream, keys.seq], args) as Promise<
            [number, number]
          >,
      );
    } catch (error) {
      for (const { pending } of messages) pending.reject(error);
      return;
    }
    this.#onPublish(messages.length);
    const last = first + messages.length - 1;
    // The indexes are in other hash slots than the room, so not in the
    // script: a room's first message adds it to them, and every hundredth
    // adds it again, in case an instance died between the two. Not awaited:
    // appends must resolve in the order of their ids, as the core delivers
    // them in that order.
    if (
      created === 1 ||
      Math.floor(last / REINDEX_EVERY) > Math.floor((first - 1) / REINDEX_EVERY)
    ) {
      const sentAt = messages[0]!.sent_at;
      this.#redis.run("index", (client) => index(client, roomId, sentAt))
        .catch(() => {
          // Redis is down (the connection says so); the room's hundredth
          // message adds it again.
        });
    }
    messages.forEach(({ pending, from, message, sent_at }, i) =>
      pending.resolve({
        room_id: roomId,
        from,
        message,
        sent_at,
        id: first + i,
      })
    );
  }

  /** A page of a room's messages, oldest first. */
  async read(roomId: string, options: ReadOptions = {}): Promise<MessagePage> {
    const { stream } = roomKeys(roomId);
    const { after, before, limit = Infinity } = options;
    // Stream ids are "<id>-0": the range is exclusive at both ends.
    const start = after === undefined || after < 1
      ? "-"
      : `(${Math.floor(after)}-0`;
    if (before !== undefined && before <= 1) {
      return { messages: [], has_more: false };
    }
    const end = before === undefined || before > Number.MAX_SAFE_INTEGER
      ? "+"
      : `(${Math.ceil(before)}-0`;
    // One entry more than asked for tells whether there are more.
    const count = limit === Infinity ? {} : { COUNT: limit + 1 };
    const oldestFirst = options.keep === "oldest";
    const entries = await this.#redis.run(
      "read",
      (client) =>
        oldestFirst
          ? client.xRange(stream, start, end, count)
          : client.xRevRange(stream, end, start, count),
    );
    const has_more = (entries?.length ?? 0) > limit;
    const kept = (has_more ? entries?.slice(0, limit) : entries) ?? [];
    if (!oldestFirst) kept.reverse();
    return {
      messages: kept.map((entry) => storedMessage(roomId, entry)),
      has_more,
    };
  }

  /** The id of a room's last message (pruned or not), 0 for none. */
  async lastId(roomId: string): Promise<number> {
    const last = await this.#redis.run(
      "lastId",
      (client) => client.get(roomKeys(roomId).seq),
    );
    return Number(last ?? 0);
  }

  /**
   * A page of the rooms that hold messages, in the order of their first
   * message: a room's position is its `chat:rooms` score.
   */
  async rooms(options: RoomsOptions): Promise<RoomsPage> {
    const { after = 0, limit } = options;
    // One room more than asked for tells whether there are more.
    const page = await this.#redis.run(
      "rooms",
      (client) =>
        client.zRangeWithScores(ROOMS_KEY, `(${after}`, "+inf", {
          BY: "SCORE",
          LIMIT: { offset: 0, count: limit + 1 },
        }),
    );
    const rooms = page.slice(0, limit).map((entry) => entry.value);
    if (page.length <= limit) return { rooms };
    return { rooms, next: page[limit - 1]!.score };
  }

  /** How many rooms hold messages. */
  roomCount(): Promise<number> {
    return this.#redis.run("roomCount", (client) => client.zCard(ROOMS_KEY));
  }

  /** How many messages a room holds and when the last one was sent. */
  async stats(roomId: string): Promise<RoomStats> {
    const { stream } = roomKeys(roomId);
    const [count, last] = await this.#redis.run(
      "stats",
      (client) =>
        Promise.all([
          client.xLen(stream),
          client.xRevRange(stream, "+", "-", { COUNT: 1 }),
        ]),
    );
    const newest = last?.[0];
    return {
      message_count: count,
      last_message_at: newest ? storedMessage(roomId, newest).sent_at : null,
    };
  }

  /** Resolves if Redis answers a PING within the deadline. */
  ping(): Promise<void> {
    return this.#redis.ping();
  }

  /**
   * Removes the oldest messages beyond the limits, without scanning all
   * keys. By age: only the rooms whose oldest message may be too old, from
   * the `chat:rooms:oldest` index. By count: appends already trim to the
   * store's `maxPerRoom`; a smaller `maxPerRoom` (the limit was lowered)
   * is applied by a sweep over the rooms, a page per call, resumed where
   * the last call stopped.
   */
  async prune(options: PruneOptions): Promise<number> {
    const { maxPerRoom, sentBefore } = options;
    let budget = options.limit ?? Infinity;
    let removed = 0;
    if (sentBefore !== undefined) {
      for (;;) {
        const rooms = await this.#redis.run(
          "prune",
          (client) =>
            client.zRange(ROOMS_BY_AGE_KEY, "-inf", `(${sentBefore}`, {
              BY: "SCORE",
              LIMIT: { offset: 0, count: ROOMS_PER_PAGE },
            }),
        );
        for (const roomId of rooms) {
          if (budget <= 0) return removed;
          const count = await this.#pruneRoom(roomId, options, budget);
          removed += count;
          budget -= count;
        }
        if (rooms.length < ROOMS_PER_PAGE || budget <= 0) break;
      }
    }
    if (maxPerRoom !== undefined && budget > 0) {
      removed += await this.#sweep(options, budget);
    }
    return removed;
  }

  /** Sends the messages waiting, waits for the answers, then closes. */
  async close(): Promise<void> {
    clearImmediate(this.#flushing);
    this.#flush();
    await Promise.all(this.#sending);
    await this.#redis.close();
  }

  /** One page of the sweep over `chat:rooms` for `maxPerRoom`. */
  async #sweep(options: PruneOptions, budget: number): Promise<number> {
    const page = await this.#redis.run(
      "prune",
      (client) =>
        client.zRangeWithScores(ROOMS_KEY, this.#sweepFrom, "+inf", {
          BY: "SCORE",
          LIMIT: { offset: 0, count: ROOMS_PER_PAGE },
        }),
    );
    let removed = 0;
    for (const { value: roomId, score } of page) {
      const count = await this.#pruneRoom(roomId, options, budget - removed);
      removed += count;
      if (removed >= budget) return removed; // resume at this room
      this.#sweepFrom = `(${score}`;
    }
    if (page.length < ROOMS_PER_PAGE) this.#sweepFrom = "-inf";
    return removed;
  }

  /**
   * Prunes one room and brings the indexes up to date: a room left empty
   * is forgotten, unless a message arrived meanwhile.
   */
  async #pruneRoom(
    roomId: string,
    options: PruneOptions,
    budget: number,
  ): Promise<number> {
    const { stream } = roomKeys(roomId);
    const [removed, left, oldest] = await this.#redis.run(
      "prune",
      (client) =>
        PRUNE.run(client, [stream], [
          String(options.maxPerRoom ?? -1),
          options.sentBefore === undefined ? "" : String(options.sentBefore),
          String(budget),
        ]) as Promise<[number, number, string]>,
    );
    await this.#redis.run("prune", async (client) => {
      if (left > 0) {
        await client.zAdd(ROOMS_BY_AGE_KEY, {
          score: Number(oldest),
          value: roomId,
        }, { condition: "XX" });
        return;
      }
      await forget(client, roomId);
    });
    return removed;
  }
}

/**
 * Takes an emptied room out of the indexes, then puts it back if an append
 * came in between: an append updates the indexes after its script, so one
 * of the two always sees the other.
 */
async function forget(client: RedisClient, roomId: string): Promise<void> {
  await Promise.all([
    client.zRem(ROOMS_KEY, roomId),
    client.zRem(ROOMS_BY_AGE_KEY, roomId),
  ]);
  const { stream } = roomKeys(roomId);
  const first = await client.xRange(stream, "-", "+", { COUNT: 1 });
  if (!first?.[0]) return;
  await index(client, roomId, storedMessage(roomId, first[0]).sent_at);
}

/**
 * Adds a room to the indexes unless it is there: to the rooms in the order
 * of their first message, and to the rooms by their oldest message's age.
 */
async function index(
  client: RedisClient,
  roomId: string,
  sentAt: number,
): Promise<void> {
  await Promise.all([
    client.zAdd(ROOMS_KEY, { score: nextOrder(), value: roomId }, {
      condition: "NX",
    }),
    client.zAdd(ROOMS_BY_AGE_KEY, { score: sentAt, value: roomId }, {
      condition: "NX",
    }),
  ]);
}

let lastOrder = 0;

/**
 * A score for the order of rooms: microseconds of this process's clock,
 * strictly increasing within the process.
 */
function nextOrder(): number {
  lastOrder = Math.max(lastOrder + 1, Date.now() * 1000);
  return lastOrder;
}

/** A stream entry as a stored message. */
function storedMessage(
  roomId: string,
  entry: { id: string; message: Record<string, string> },
): StoredMessage {
  return {
    room_id: roomId,
    from: entry.message.from ?? "",
    message: entry.message.message ?? "",
    sent_at: Number(entry.message.sent_at),
    id: Number.parseInt(entry.id),
  };
}
