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
  /** Every room that holds messages, in the order of its first message. */
  rooms(): Promise<string[]>;
  /** How many messages a room holds and when the last one was sent. */
  stats(roomId: string): Promise<RoomStats>;
  /** How many rooms hold messages. */
  roomCount(): Promise<number>;
  /** Resolves if the store can serve requests, rejects otherwise. */
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
