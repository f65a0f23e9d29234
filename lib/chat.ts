import type { StoredMessage } from "./contract.ts";
import { presenceFrame, receiveMessageFrame } from "./frames.ts";
import { ChatMetrics } from "./metrics/chat_metrics.ts";
import { Logger } from "./logger.ts";
import { LocalRoomBus, type RoomBus } from "./room_bus.ts";
import { Rooms } from "./rooms.ts";
import { StoreHealth } from "./store_health.ts";
import type { MessageDraft, MessagePage, MessageStore } from "./store/store.ts";

/** Options of {@linkcode Chat}. */
export interface ChatOptions {
  /** Where messages are kept. */
  store: MessageStore;
  /**
   * How the rooms' events reach their members, on this instance and any
   * other that shares the rooms.
   * @default {a LocalRoomBus: this process only}
   */
  bus?: RoomBus | undefined;
  /**
   * How many recent messages a joiner receives before its `join-room`.
   * @default {50}
   */
  joinHistory?: number | undefined;
  /**
   * Where the chat counts what it does.
   * @default {new ChatMetrics()}
   */
  metrics?: ChatMetrics | undefined;
  /**
   * Most messages one history page holds: `POST /receive` without a smaller
   * `limit`, and the replay of a `join-room` with `since`.
   * @default {1000}
   */
  pageMax?: number | undefined;
  /**
   * Most bytes of JSON one `POST /receive` page holds: a page cut short by
   * it says `has_more`, so a client that never reads cannot make the server
   * hold more than this for it.
   * @default {1048576}
   */
  pageMaxBytes?: number | undefined;
  /**
   * Where failed and successful writes are reported.
   * @default {new StoreHealth(new Logger({ level: "silent" }))}
   */
  storeHealth?: StoreHealth | undefined;
}

/** Which page of a room's history to read. */
export interface HistoryQuery {
  /** Only messages after this id; the page then starts right after it. */
  after?: number | undefined;
  /** Only messages before this id. */
  before?: number | undefined;
  /** At most this many, capped at `pageMax`. */
  limit?: number | undefined;
}

/** How a message reached the server, for the metrics. */
export type Transport = "websocket" | "rest";

/** What `GET /rooms/{room_id}` tells about a room. */
export interface RoomInfo {
  /** The room asked about. */
  room_id: string;
  /** Names of the connected members, each once, in the order they joined. */
  members: string[];
  /** How many messages the room holds. */
  message_count: number;
  /** `sent_at` of the newest message, or `null` for a room without any. */
  last_message_at: number | null;
}

/**
 * The chat itself, shared by the REST routes and every WebSocket
 * connection: the store, the room members of this instance, and the bus
 * that carries the rooms' events to them.
 */
export class Chat {
  /** Where messages are kept. */
  readonly store: MessageStore;
  /** Which connections of this instance are in which room. */
  readonly rooms: Rooms = new Rooms();
  /** How the rooms' events reach their members, on every instance. */
  readonly bus: RoomBus;
  /** How many recent messages a joiner receives. */
  readonly joinHistory: number;
  /** What the chat counts. */
  readonly metrics: ChatMetrics;
  /** Most messages one history page holds. */
  readonly pageMax: number;
  /** Most bytes of JSON one history page holds. */
  readonly pageMaxBytes: number;
  /** Whether the store can write, as the last write found it. */
  readonly storeHealth: StoreHealth;

  /** Creates a chat over a store. */
  constructor(options: ChatOptions) {
    this.store = options.store;
    this.joinHistory = options.joinHistory ?? 50;
    this.metrics = options.metrics ?? new ChatMetrics();
    this.pageMax = options.pageMax ?? 1000;
    this.pageMaxBytes = options.pageMaxBytes ?? 1024 * 1024;
    this.storeHealth = options.storeHealth ??
      new StoreHealth(new Logger({ level: "silent" }));
    this.bus = options.bus ??
      new LocalRoomBus((roomId) => this.rooms.memberNames(roomId));
    this.bus.start({
      message: (message) => {
        const delivered = this.rooms.broadcast(
          message.room_id,
          receiveMessageFrame(message),
          message.id,
        );
        this.metrics.messagesDelivered.inc("", delivered);
      },
      presence: ({ type, room_id, from }) =>
        this.rooms.broadcast(room_id, presenceFrame(type, room_id, from)),
    });
  }

  /** Stores a message, then every member of its room receives it. */
  async post(
    draft: MessageDraft,
    transport: Transport,
  ): Promise<StoredMessage> {
    const startedAt = performance.now();
    let stored;
    try {
      stored = await this.store.append(draft);
    } catch (error) {
      this.storeHealth.failed(error);
      throw error;
    }
    this.storeHealth.succeeded();
    const { metrics } = this;
    metrics.storeWriteSeconds.observe((performance.now() - startedAt) / 1000);
    metrics.messagesReceived.inc(transport);
    this.bus.stored(stored);
    return stored;
  }

  /**
   * A page of a room's history, oldest first. Without `after` it holds the
   * newest messages (before `before`), and `has_more` says older ones exist;
   * with `after` it holds the oldest after it, and `has_more` says newer
   * ones exist, so a client pages forward without gaps. A page holds at
   * most `pageMax` messages and `pageMaxBytes` of JSON (but always one).
   */
  async history(
    roomId: string,
    query: HistoryQuery = {},
  ): Promise<MessagePage> {
    const keep = query.after === undefined ? "newest" : "oldest";
    const page = await this.store.read(roomId, {
      after: query.after,
      before: query.before,
      limit: Math.min(query.limit ?? Infinity, this.pageMax),
      keep,
    });
    return withinBytes(page, keep, this.pageMaxBytes);
  }

  /**
   * The history a joiner receives before its `join-room`: the room's
   * recent messages, or with `since` the newest page of those after it,
   * where `has_more` says that older ones after `since` were left out.
   */
  historyOnJoin(roomId: string, since?: number): Promise<MessagePage> {
    return this.store.read(
      roomId,
      since === undefined
        ? { limit: this.joinHistory }
        : { after: since, limit: this.pageMax },
    );
  }

  /** Describes a room, or `undefined` if it has neither members nor messages. */
  async roomInfo(roomId: string): Promise<RoomInfo | undefined> {
    const [stats, members] = await Promise.all([
      this.store.stats(roomId),
      this.bus.memberNames(roomId),
    ]);
    if (stats.message_count === 0 && members.length === 0) return undefined;
    return { room_id: roomId, members, ...stats };
  }
}

const encoder = new TextEncoder();

/**
 * The messages of `page` that fit in `maxBytes` of JSON, counted from the
 * end it keeps; at least one, so that a client paging through makes
 * progress whatever the limit.
 */
function withinBytes(
  page: MessagePage,
  keep: "newest" | "oldest",
  maxBytes: number,
): MessagePage {
  const { messages } = page;
  const ordered = keep === "newest" ? messages.toReversed() : messages;
  let bytes = 0;
  let fits = 0;
  for (const message of ordered) {
    // The comma between two messages counts too.
    bytes += encoder.encode(JSON.stringify(message)).length + 1;
    if (bytes > maxBytes && fits > 0) break;
    fits++;
  }
  if (fits === messages.length) return page;
  return {
    messages: keep === "newest"
      ? messages.slice(messages.length - fits)
      : messages.slice(0, fits),
    has_more: true,
  };
}
