/**
 * The message store interface. Every method is asynchronous so that an
 * in-memory map, a database file and a networked store all fit behind it
 * without changing the callers.
 *
 * @module
 */
import type { SendBody, StoredMessage } from "../contract.ts";

/** What a caller hands the store: a message without `id` and `sent_at`. */
export type MessageDraft = SendBody;

/** Counters the store keeps for one room. */
export interface RoomStats {
  /** How many messages the room holds. */
  message_count: number;
  /** `sent_at` of the newest message, or `null` for a room without any. */
  last_message_at: number | null;
}

/** Which messages of a room to read. */
export interface ReadOptions {
  /** Only messages with an `id` above this one. */
  after?: number | undefined;
  /** Only messages with an `id` below this one. */
  before?: number | undefined;
  /**
   * Return at most this many.
   * @default {Infinity}
   */
  limit?: number | undefined;
  /**
   * Which end of the range a limited read keeps: the newest messages (the
   * recent history, paging backwards) or the oldest (paging forwards).
   * @default {"newest"}
   */
  keep?: "newest" | "oldest" | undefined;
}

/** One page of a room's messages. */
export interface MessagePage {
  /** The messages, oldest first. */
  messages: StoredMessage[];
  /** Whether the range holds more messages beyond the kept end of the page. */
  has_more: boolean;
}

/**
 * Which rooms {@linkcode MessageStore.rooms} lists: a page of them, in the
 * order of each room's first message.
 */
export interface RoomsOptions {
  /**
   * Only rooms after this position: the `next` of the page before. A
   * position is a whole number (at most `Number.MAX_SAFE_INTEGER`) that the
   * store gives each room when its first message is stored, increasing from
   * room to room (the SQLite store's row number, the Redis store's
   * `chat:rooms` score); a room whose messages were all pruned and that is
   * used again gets a new one.
   * @default {0}
   */
  after?: number | undefined;
  /** At most this many rooms; at least 1. */
  limit: number;
}

/** One page of the rooms that hold messages. */
export interface RoomsPage {
  /** The rooms, in the order of their first message. */
  rooms: string[];
  /**
   * The position of the last room of this page, to ask for the next page
   * with; left out when no room follows.
   */
  next?: number;
}

/** Which messages {@linkcode MessageStore.prune} removes. */
export interface PruneOptions {
  /** Keep at most this many messages per room, the newest. */
  maxPerRoom?: number | undefined;
  /** Remove messages with a `sent_at` before this one (unix seconds). */
  sentBefore?: number | undefined;
  /**
   * Remove at most this many in one call, so that a large prune is done in
   * short steps that let deliveries run in between.
   * @default {Infinity}
   */
  limit?: number | undefined;
}

/**
 * Keeps messages per room and gives each an `id` that strictly increases
 * within its room. The memory and SQLite stores number every message of the
 * server in one sequence; the Redis store numbers each room on its own
 * (1, 2, 3...), so that instances need not agree on one counter.
 *
 * A method that cannot do its work for a while (a lock held elsewhere, a
 * full disk, a lost connection) rejects with a `StoreUnavailableError`
 * (`./store_unavailable_error.ts`): the chat answers it with `503` or an
 * error frame and logs it once, where any other error is a bug.
 */
export interface MessageStore {
  /**
   * Stores a message, stamping it with `id` and `sent_at`. Resolves once the
   * message is stored for good, so callers deliver it only then; a room's
   * appends resolve in the order of their ids.
   */
  append(draft: MessageDraft): Promise<StoredMessage>;
  /** A page of a room's messages; no messages for an unknown room. */
  read(roomId: string, options?: ReadOptions): Promise<MessagePage>;
  /**
   * A page of the rooms that hold messages, in the order of their first
   * message. Its work is bounded by the page, not by how many rooms exist:
   * a store finds the position `after` by an index, not by a scan.
   */
  rooms(query: RoomsOptions): Promise<RoomsPage>;
  /** How many messages a room holds and when the last one was sent. */
  stats(roomId: string): Promise<RoomStats>;
  /** How many rooms hold messages. */
  roomCount(): Promise<number>;
  /**
   * Resolves if the store can serve requests, writes included, now;
   * rejects otherwise (`GET /readyz` asks it).
   */
  ping(): Promise<void>;
  /**
   * Removes the oldest messages beyond the limits; a room left without
   * messages is forgotten. Ids are never reused.
   *
   * @returns how many messages were removed
   */
  prune(options: PruneOptions): Promise<number>;
  /** Stores what is pending, then releases what the store holds open. */
  close(): Promise<void>;
}
