import type { StoredMessage } from "./contract.ts";
import { receiveMessageFrame } from "./frames.ts";
import { Rooms } from "./rooms.ts";
import type { MessageDraft, MessageStore } from "./store/store.ts";

/** Options of {@linkcode Chat}. */
export interface ChatOptions {
  /** Where messages are kept. */
  store: MessageStore;
  /**
   * How many recent messages a joiner receives before its `join-room`.
   * @default {50}
   */
  joinHistory?: number | undefined;
}

/** What `GET /rooms/{room_id}` tells about a room. */
export interface RoomInfo {
  room_id: string;
  /** Names of the connected members, each once, in the order they joined. */
  members: string[];
  message_count: number;
  last_message_at: number | null;
}

/**
 * The chat itself, shared by the REST routes and every WebSocket session:
 * the store, the live room memberships, and posting a message to both.
 */
export class Chat {
  /** Where messages are kept. */
  readonly store: MessageStore;
  /** Who is connected to which room. */
  readonly rooms: Rooms = new Rooms();
  /** How many recent messages a joiner receives. */
  readonly joinHistory: number;

  /** Creates a chat over a store. */
  constructor(options: ChatOptions) {
    this.store = options.store;
    this.joinHistory = options.joinHistory ?? 50;
  }

  /** Stores a message, then delivers it to every member of its room. */
  async post(draft: MessageDraft): Promise<StoredMessage> {
    const stored = await this.store.append(draft);
    this.rooms.broadcast(
      stored.room_id,
      receiveMessageFrame(stored),
      stored.id,
    );
    return stored;
  }

  /** Describes a room, or `undefined` if it has neither members nor messages. */
  async roomInfo(roomId: string): Promise<RoomInfo | undefined> {
    const stats = await this.store.stats(roomId);
    const members = this.rooms.memberNames(roomId);
    if (stats.message_count === 0 && members.length === 0) return undefined;
    return { room_id: roomId, members, ...stats };
  }
}
