import type { StoredMessage } from "../contract.ts";
import { unixSeconds } from "../clock.ts";
import type {
  MessageDraft,
  MessageStore,
  ReadOptions,
  RoomStats,
} from "./store.ts";

/** Options of {@linkcode MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The clock that stamps `sent_at`, in unix seconds.
   * @default {unixSeconds}
   */
  now?: () => number;
}

/** Keeps every message in process memory until the server stops. */
export class MemoryStore implements MessageStore {
  /** Insertion order of a Map is the order of each room's first message. */
  #rooms = new Map<string, StoredMessage[]>();
  #lastId = 0;
  #now: () => number;

  /** Creates an empty store. */
  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? unixSeconds;
  }

  /** Stores a message, stamping it with `id` and `sent_at`. */
  append(draft: MessageDraft): Promise<StoredMessage> {
    const stored: StoredMessage = {
      room_id: draft.room_id,
      from: draft.from,
      message: draft.message,
      sent_at: this.#now(),
      id: ++this.#lastId,
    };
    const messages = this.#rooms.get(stored.room_id);
    if (messages) messages.push(stored);
    else this.#rooms.set(stored.room_id, [stored]);
    return Promise.resolve(stored);
  }

  /** A room's newest messages (all by default), oldest first. */
  read(roomId: string, options: ReadOptions = {}): Promise<StoredMessage[]> {
    const messages = this.#rooms.get(roomId) ?? [];
    const limit = options.limit ?? Infinity;
    const start = Math.max(0, messages.length - limit);
    return Promise.resolve(messages.slice(start));
  }

  /** Every room that holds messages, in the order of its first message. */
  rooms(): Promise<string[]> {
    return Promise.resolve([...this.#rooms.keys()]);
  }

  /** How many messages a room holds and when the last one was sent. */
  stats(roomId: string): Promise<RoomStats> {
    const messages = this.#rooms.get(roomId) ?? [];
    return Promise.resolve({
      message_count: messages.length,
      last_message_at: messages.at(-1)?.sent_at ?? null,
    });
  }

  /** Always ready: memory is always there. */
  ping(): Promise<void> {
    return Promise.resolve();
  }

  /** Forgets every message. */
  close(): Promise<void> {
    this.#rooms.clear();
    return Promise.resolve();
  }
}
