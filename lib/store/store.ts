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
  /**
   * Return at most this many, the newest ones.
   * @default {Infinity}
   */
  limit?: number;
}

/** Keeps messages per room and gives each a strictly increasing `id`. */
export interface MessageStore {
  /** Stores a message, stamping it with `id` and `sent_at`. */
  append(draft: MessageDraft): Promise<StoredMessage>;
  /** A room's messages, oldest first; `[]` for an unknown room. */
  read(roomId: string, options?: ReadOptions): Promise<StoredMessage[]>;
  /** Every room that holds messages, in the order of its first message. */
  rooms(): Promise<string[]>;
  /** How many messages a room holds and when the last one was sent. */
  stats(roomId: string): Promise<RoomStats>;
  /** Resolves if the store can serve requests, rejects otherwise. */
  ping(): Promise<void>;
  /** Finishes pending writes and releases what the store holds open. */
  close(): Promise<void>;
}
