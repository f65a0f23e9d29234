import type { DiskWatch } from "./disk_watch.ts";
import { QuotaError } from "./quota_error.ts";
import { RateLimiter } from "./rate_limiter.ts";
import type { MessageDraft, MessageStore } from "./store/store.ts";

/** Options of {@linkcode StorageQuota}. */
export interface StorageQuotaOptions {
  /**
   * Messages per second one IP address may store, over all its WebSocket
   * connections and `POST /send` together (bursts of twice that); 0 turns
   * the limit off.
   * @default {20}
   */
  ipMessageRate?: number | undefined;
  /**
   * New rooms per minute one IP address may create, by sending the first
   * message of a room (bursts of twice that); 0 turns the limit off.
   * @default {30}
   */
  ipRoomsPerMinute?: number | undefined;
  /**
   * Most rooms with messages the store may hold.
   * @default {100000}
   */
  maxRooms?: number | undefined;
  /** The disk the store writes to; without it, space is not checked. */
  disk?: DiskWatch | undefined;
  /**
   * The clock, in milliseconds.
   * @default {performance.now}
   */
  now?: (() => number) | undefined;
}

/** How many rooms known to hold messages are remembered, at most. */
const KNOWN_ROOMS = 10_000;

/**
 * What may be written to the store, so that one client machine cannot
 * fill it: a message budget per IP address summed over its connections, a
 * rate of new rooms per IP address, a cap on rooms, and a floor of free
 * disk. A message to a room known to hold messages is decided at once;
 * only the first one to a room the server has not seen lately asks the
 * store.
 */
export class StorageQuota {
  readonly #store: MessageStore;
  readonly #messages: RateLimiter | undefined;
  readonly #rooms: RateLimiter | undefined;
  readonly #maxRooms: number;
  readonly #disk: DiskWatch | undefined;
  #knownRooms = new Set<string>();

  /** Creates the quota of a store. */
  constructor(store: MessageStore, options: StorageQuotaOptions = {}) {
    this.#store = store;
    const now = options.now;
    const messageRate = options.ipMessageRate ?? 20;
    this.#messages = messageRate > 0
      ? new RateLimiter({ rate: messageRate, now })
      : undefined;
    const roomsPerMinute = options.ipRoomsPerMinute ?? 30;
    this.#rooms = roomsPerMinute > 0
      ? new RateLimiter({
        rate: roomsPerMinute / 60,
        burst: 2 * roomsPerMinute,
        now,
      })
      : undefined;
    this.#maxRooms = options.maxRooms ?? 100_000;
    this.#disk = options.disk;
  }

  /** Whether writes are refused because the disk is nearly full. */
  get diskFull(): boolean {
    return this.#disk?.full ?? false;
  }

  /**
   * Decides whether `clientIp` may store this message now; synchronous
   * unless the room is new to the server.
   *
   * @throws {QuotaError} if it may not
   */
  admit(draft: MessageDraft, clientIp: string): void | Promise<void> {
    if (this.diskFull) {
      throw new QuotaError(
        503,
        "the server's disk is nearly full: messages cannot be stored now",
        "disk_full",
      );
    }
    const decision = this.#messages?.take(clientIp);
    if (decision && !decision.allowed) {
      throw new QuotaError(
        429,
        `rate limited: too many messages from ${clientIp}; retry in ${decision.retryAfterSeconds} s`,
        "rate_limited",
        decision.retryAfterSeconds,
      );
    }
    if (this.#knownRooms.has(draft.room_id)) return;
    return this.#admitToRoom(draft.room_id, clientIp);
  }

  #remember(roomId: string): void {
    if (this.#knownRooms.size >= KNOWN_ROOMS) {
      // The room remembered longest is forgotten (a Set keeps its order).
      this.#knownRooms.delete(this.#knownRooms.values().next().value!);
    }
    this.#knownRooms.add(roomId);
  }

  async #admitToRoom(roomId: string, clientIp: string): Promise<void> {
    if ((await this.#store.stats(roomId)).message_count > 0) {
      this.#remember(roomId);
      return;
    }
    // The rate first: a client over it costs the store no count of rooms.
    const decision = this.#rooms?.take(clientIp);
    if (decision && !decision.allowed) {
      throw new QuotaError(
        429,
        `rate limited: too many new rooms from ${clientIp}; retry in ${decision.retryAfterSeconds} s`,
        "room_rate_limited",
        decision.retryAfterSeconds,
      );
    }
    if (await this.#store.roomCount() >= this.#maxRooms) {
      throw new QuotaError(
        503,
        `the server holds as many rooms as it may (${this.#maxRooms}): send to a room that has messages`,
        "too_many_rooms",
      );
    }
    // Known from now on, so that the messages after this one do not count
    // as new rooms while it is being stored.
    this.#remember(roomId);
  }
}
