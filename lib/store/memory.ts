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
  /** Each room's messages in `id` order. */
  #rooms = new Map<string, StoredMessage[]>();
  /**
   * The rooms that hold messages with their positions, in the order of
   * their first message, for paging by a binary search.
   */
  #order: { roomId: string; position: number }[] = [];
  #lastPosition = 0;
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
    else {
      this.#rooms.set(stored.room_id, [stored]);
      this.#order.push({
        roomId: stored.room_id,
        position: ++this.#lastPosition,
      });
    }
    return Promise.resolve(stored);
  }

  /** A page of a room's messages, oldest first. */
  read(roomId: string, options: ReadOptions = {}): Promise<MessagePage> {
    const messages = this.#rooms.get(roomId) ?? [];
    const { after = -Infinity, before = Infinity, limit = Infinity } = options;
    let start = partitionPoint(messages, (message) => message.id > after);
    let end = partitionPoint(messages, (message) => message.id >= before);
    const has_more = end - start > limit;
    if (has_more && options.keep === "oldest") end = start + limit;
    else if (has_more) start = end - limit;
    return Promise.resolve({ messages: messages.slice(start, end), has_more });
  }

  /** A page of the rooms that hold messages, in the order of the first. */
  rooms(options: RoomsOptions): Promise<RoomsPage> {
    const { after = 0, limit } = options;
    const start = partitionPoint(this.#order, (room) => room.position > after);
    const page = this.#order.slice(start, start + limit);
    const rooms = page.map((room) => room.roomId);
    if (start + limit >= this.#order.length) return Promise.resolve({ rooms });
    return Promise.resolve({ rooms, next: page.at(-1)!.position });
  }

  /** How many messages a room holds and when the last one was sent. */
  stats(roomId: string): Promise<RoomStats> {
    const messages = this.#rooms.get(roomId) ?? [];
    return Promise.resolve({
      message_count: messages.length,
      last_message_at: messages.at(-1)?.sent_at ?? null,
    });
  }

  /** How many rooms hold messages. */
  roomCount(): Promise<number> {
    return Promise.resolve(this.#rooms.size);
  }

  /** Always ready: memory is always there. */
  ping(): Promise<void> {
    return Promise.resolve();
  }

  /** Removes each room's oldest messages beyond the limits. */
  prune(options: PruneOptions): Promise<number> {
    const { maxPerRoom = Infinity, sentBefore = -Infinity } = options;
    let budget = options.limit ?? Infinity;
    let removed = 0;
    const roomsBefore = this.#rooms.size;
    for (const [roomId, messages] of this.#rooms) {
      const excess = messages.length - maxPerRoom;
      let drop = 0;
      while (
        drop < messages.length && drop < budget &&
        (drop < excess || messages[drop]!.sent_at < sentBefore)
      ) drop++;
      messages.splice(0, drop);
      if (messages.length === 0) this.#rooms.delete(roomId);
      removed += drop;
      budget -= drop;
      if (budget === 0) break;
    }
    // O(rooms), as a pass of the loop above may be; only when a room went.
    if (this.#rooms.size < roomsBefore) {
      this.#order = this.#order.filter((room) => this.#rooms.has(room.roomId));
    }
    return Promise.resolve(removed);
  }

  /** Forgets every message. */
  close(): Promise<void> {
    this.#rooms.clear();
    this.#order = [];
    return Promise.resolve();
  }
}

/**
 * The first index at which `predicate` holds, by binary search: `predicate`
 * must be false for a prefix of `items` and true for the rest.
 */
function partitionPoint<T>(
  items: readonly T[],
  predicate: (item: T) => boolean,
): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (predicate(items[middle]!)) high = middle;
    else low = middle + 1;
  }
  return low;
}
