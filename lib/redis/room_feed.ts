import type { StoredMessage } from "../contract.ts";
import type { PresenceEvent } from "../room_bus.ts";
import type { MessagePage, ReadOptions } from "../store/store.ts";
import type { RedisClient, RedisConnection } from "./redis_connection.ts";
import { roomKeys } from "./room_keys.ts";

/** Where a feed reads what pub/sub did not bring: the Redis store. */
export interface RoomHistory {
  /** The id of the room's last message, 0 for none. */
  lastId(roomId: string): Promise<number>;
  /** A page of the room's messages, as `MessageStore.read()`. */
  read(roomId: string, options: ReadOptions): Promise<MessagePage>;
}

/**
 * A join or leave as an instance published it on a room's channel: the
 * event, and which member on which instance it is about.
 */
export interface PublishedPresence extends PresenceEvent {
  /** The instance the member is connected to. */
  instance: string;
  /** The member's connection on that instance. */
  connection: string;
}

/** Options of {@linkcode RoomFeed}. */
export interface RoomFeedOptions {
  /** A connection of its own: it is in subscriber mode. */
  connection: RedisConnection;
  /** Where missing messages are read from. */
  history: RoomHistory;
  /** Each room's messages, in id order, each once. */
  onMessage(message: StoredMessage): void;
  /** Joins and leaves published on the rooms' channels. */
  onPresence?: ((event: PublishedPresence) => void) | undefined;
  /**
   * Messages that were missed and can no longer be read (pruned meanwhile):
   * ids `from` to `to`, both included.
   */
  onLost?: ((roomId: string, from: number, to: number) => void) | undefined;
  /**
   * Called each time the subscriptions are in place again after a lost
   * connection: what was published meanwhile was missed.
   */
  onResubscribed?: (() => void) | undefined;
  /** Called once per repair that read missed messages from the stream. */
  onRepair?: ((roomId: string, count: number) => void) | undefined;
  /**
   * Most messages one repair read asks for.
   * @default {1000}
   */
  pageSize?: number | undefined;
}

/** What the feed knows of one followed room. */
interface Followed {
  /** The id of the last message delivered. */
  last: number;
  /** Messages that came in while a repair ran, delivered after it. */
  waiting: StoredMessage[];
  /** The repair running, if one is. */
  repairing: Promise<void> | undefined;
}

/**
 * The stored messages of the rooms this instance follows, from their
 * sharded channels (`SSUBSCRIBE`), each delivered once and in id order.
 *
 * Pub/sub alone delivers at most once: a message published while the
 * subscription is down is gone. Ids are consecutive within a room, so the
 * feed notices a gap at the next message (id 7 after 5), and after every
 * reconnection it asks the stream for anything newer than what it
 * delivered; either way it reads the missing range from the stream and
 * delivers it before anything newer.
 */
export class RoomFeed {
  #redis: RedisConnection;
  #options: RoomFeedOptions;
  #rooms = new Map<string, Followed>();
  /** Channel name to room id, for the rooms followed. */
  #channels = new Map<string, string>();
  /** The client the subscriptions were made on. */
  #subscribed: RedisClient;
  #removeReadyListener: () => void;

  /** Creates a feed that follows no room yet. */
  constructor(options: RoomFeedOptions) {
    this.#redis = options.connection;
    this.#options = options;
    this.#subscribed = this.#redis.client;
    this.#removeReadyListener = this.#redis.onReady(() => this.#reconnected());
  }

  /** The rooms followed. */
  get rooms(): string[] {
    return [...this.#rooms.keys()];
  }

  /** The id of the last message delivered in a room, if it is followed. */
  lastDelivered(roomId: string): number | undefined {
    return this.#rooms.get(roomId)?.last;
  }

  /**
   * Follows a room: subscribes to its channel, then delivers every message
   * stored after the room's last id as it was before the subscription.
   * Resolves once the subscription is in place.
   *
   * @throws {StoreUnavailableError} if Redis is unreachable
   */
  async follow(roomId: string): Promise<void> {
    if (this.#rooms.has(roomId)) return;
    const last = await this.#options.history.lastId(roomId);
    if (this.#rooms.has(roomId)) return;
    const room: Followed = { last, waiting: [], repairing: undefined };
    const { channel } = roomKeys(roomId);
    this.#rooms.set(roomId, room);
    this.#channels.set(channel, roomId);
    try {
      await this.#redis.run(
        "subscribe",
        (client) => client.sSubscribe(channel, this.#listener),
      );
    } catch (error) {
      this.#forget(roomId);
      throw error;
    }
    // What was stored between reading the last id and the subscription.
    this.#repair(roomId, room);
  }

  /** Stops following a room. */
  async unfollow(roomId: string): Promise<void> {
    if (!this.#rooms.has(roomId)) return;
    const { channel } = roomKeys(roomId);
    this.#forget(roomId);
    await this.#redis.run(
      "unsubscribe",
      (client) => client.sUnsubscribe(channel, this.#listener),
    ).catch(() => {
      // Gone with the connection anyway; not subscribed again on return.
    });
  }

  /** Stops following every room; waits for the repairs running. */
  async close(): Promise<void> {
    this.#removeReadyListener();
    const repairs = [...this.#rooms.values()].map((room) => room.repairing);
    for (const roomId of this.rooms) await this.unfollow(roomId);
    await Promise.all(repairs);
  }

  /**
   * Takes a payload off a channel: the messages of one append, as an
   * array, or a presence event. Must not throw: it runs in the client.
   */
  #listener = (payload: string, channel: string): void => {
    const roomId = this.#channels.get(channel);
    const room = roomId === undefined ? undefined : this.#rooms.get(roomId);
    if (!room || roomId === undefined) return;
    let event: StoredMessage[] | StoredMessage | PublishedPresence;
    try {
      event = JSON.parse(payload);
    } catch {
      return;
    }
    if (Array.isArray(event)) {
      for (const message of event) this.#take(roomId, room, message);
    } else if ("type" in event) this.#options.onPresence?.(event);
    else this.#take(roomId, room, event);
  };

  /** Delivers a published message now, or after the gap before it is filled. */
  #take(roomId: string, room: Followed, message: StoredMessage): void {
    if (room.repairing) room.waiting.push(message);
    else if (message.id === room.last + 1) this.#deliver(room, message);
    else if (message.id > room.last + 1) {
      room.waiting.push(message);
      this.#repair(roomId, room);
    } // else: delivered already
  }

  #deliver(room: Followed, message: StoredMessage): void {
    room.last = message.id;
    this.#options.onMessage(message);
  }

  /**
   * Reads what follows the last delivered message from the stream and
   * delivers it, then the messages that came in meanwhile; again, while
   * those leave a gap. A failed read is tried again at the next message or
   * reconnection.
   */
  #repair(roomId: string, room: Followed): void {
    if (room.repairing) return;
    room.repairing = (async () => {
      let repaired = 0;
      let failed = false;
      try {
        while (this.#rooms.get(roomId) === room) {
          const page = await this.#options.history.read(roomId, {
            after: room.last,
            keep: "oldest",
            limit: this.#options.pageSize ?? 1000,
          });
          for (const message of page.messages) {
            if (this.#rooms.get(roomId) !== room) return;
            if (message.id > room.last + 1) {
              this.#options.onLost?.(roomId, room.last + 1, message.id - 1);
            }
            if (message.id > room.last) {
              this.#deliver(room, message);
              repaired++;
            }
          }
          if (!page.has_more) break;
        }
      } catch {
        // Redis is down: the next message or reconnection repairs again.
        failed = true;
      } finally {
        room.repairing = undefined;
      }
      if (repaired > 0) this.#options.onRepair?.(roomId, repaired);
      if (failed) return;
      // What is still missing below the waiting messages is gone for good.
      const next = Math.min(...room.waiting.map((message) => message.id));
      if (next !== Infinity && next > room.last + 1) {
        this.#options.onLost?.(roomId, room.last + 1, next - 1);
        room.last = next - 1;
      }
      this.#drain(roomId, room);
    })();
  }

  /** Delivers the messages that waited for a repair, in id order. */
  #drain(roomId: string, room: Followed): void {
    const waiting = room.waiting.splice(0).sort((a, b) => a.id - b.id);
    for (const [index, message] of waiting.entries()) {
      if (message.id <= room.last) continue;
      if (message.id > room.last + 1) {
        room.waiting.push(...waiting.slice(index));
        this.#repair(roomId, room);
        return;
      }
      this.#deliver(room, message);
    }
  }

  /**
   * The client is ready again: on a new client, subscribe again (node-redis
   * resubscribes an old one itself before it is ready); in any case, read
   * what was published while the connection was down.
   */
  async #reconnected(): Promise<void> {
    const client = this.#redis.client;
    if (client !== this.#subscribed) {
      this.#subscribed = client;
      const channels = [...this.#channels.keys()];
      if (channels.length > 0) {
        try {
          await this.#redis.run(
            "subscribe",
            (client) => client.sSubscribe(channels, this.#listener),
          );
        } catch {
          return; // Down again: the next ready event tries again.
        }
      }
    }
    this.#options.onResubscribed?.();
    for (const [roomId, room] of this.#rooms) this.#repair(roomId, room);
  }

  #forget(roomId: string): void {
    this.#rooms.delete(roomId);
    this.#channels.delete(roomKeys(roomId).channel);
  }
}
