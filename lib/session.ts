import type {
  JoinRoomFrame,
  LeaveRoomFrame,
  SendMessageFrame,
} from "./contract.ts";
import type { Chat } from "./chat.ts";
import {
  joinRoomFrame,
  leaveRoomFrame,
  receiveMessageFrame,
} from "./frames.ts";
import type { Peer } from "./peer.ts";
import { ProtocolError } from "./protocol_error.ts";
import type { RoomMember } from "./rooms.ts";
import { TokenBucket } from "./token_bucket.ts";

/** A frame that reached a joiner while its history was still loading. */
interface HeldFrame {
  text: string;
  messageId: number | undefined;
}

/** One room this connection joined. */
interface Membership {
  readonly name: string;
  /** Frames held back until the history is sent; `undefined` once live. */
  held: HeldFrame[] | undefined;
  /** Whether the room was told about the join (and so must hear the leave). */
  announced: boolean;
}

/** Options of {@linkcode Session}. */
export interface SessionOptions {
  /**
   * Most rooms one connection may be in at once.
   * @default {100}
   */
  maxRooms?: number | undefined;
  /**
   * Messages per second a connection may send (bursts of twice that); 0
   * turns the limit off.
   * @default {0}
   */
  rateLimit?: number | undefined;
  /**
   * A connection that stays over the rate limit this long is closed (1008).
   * @default {10000}
   */
  floodCloseMs?: number | undefined;
  /**
   * The clock, in milliseconds.
   * @default {performance.now}
   */
  now?: (() => number) | undefined;
}

/** How long without a refused message ends a flood. */
const FLOOD_QUIET_MS = 1000;

/**
 * One connection's part in the chat: which rooms it joined under which
 * names, and what each client frame does.
 *
 * A joiner is a room member from the first moment, so that no message sent
 * while its history loads can slip past it; those frames are held and sent
 * after the history, without the ones the history already contained.
 */
export class Session implements RoomMember {
  #chat: Chat;
  #peer: Peer;
  #joined = new Map<string, Membership>();
  /** How many memberships hold frames; zero makes delivery a direct send. */
  #loading = 0;

  readonly #maxRooms: number;
  readonly #rate: number;
  readonly #bucket: TokenBucket | undefined;
  readonly #floodCloseMs: number;
  readonly #now: () => number;
  /** When the current run of refused messages began. */
  #floodStartedAt: number | undefined;
  #lastRefusedAt = -Infinity;

  /** Creates the session of a newly opened connection. */
  constructor(chat: Chat, peer: Peer, options: SessionOptions = {}) {
    this.#chat = chat;
    this.#peer = peer;
    this.#maxRooms = options.maxRooms ?? 100;
    this.#floodCloseMs = options.floodCloseMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
    this.#rate = options.rateLimit ?? 0;
    this.#bucket = this.#rate > 0
      ? new TokenBucket({ rate: this.#rate, now: this.#now })
      : undefined;
  }

  /**
   * Handles `join-room`: history first (the recent messages, or those after
   * `since`), then the room hears of the join.
   */
  async join(frame: JoinRoomFrame): Promise<void> {
    const roomId = frame.room_id;
    const existing = this.#joined.get(roomId);
    if (existing) {
      throw new ProtocolError(
        `You already joined room "${roomId}" as "${existing.name}"`,
        "already_joined",
      );
    }
    if (this.#joined.size >= this.#maxRooms) {
      throw new ProtocolError(
        `You can be in at most ${this.#maxRooms} rooms at once; leave one first`,
        "too_many_rooms",
      );
    }
    const membership: Membership = {
      name: frame.from,
      held: [],
      announced: false,
    };
    this.#joined.set(roomId, membership);
    this.#loading++;
    this.#chat.rooms.add(roomId, this);

    let history;
    try {
      const page = await this.#chat.store.read(
        roomId,
        frame.since === undefined ? { limit: this.#chat.joinHistory } : {
          // The newest after `since`: should more than a page have been
          // missed, the replay still meets the live messages without a gap.
          after: frame.since,
          limit: this.#chat.pageMax,
        },
      );
      history = page.messages;
    } catch (error) {
      if (this.#joined.get(roomId) === membership) this.#drop(roomId);
      throw new ProtocolError(
        `Could not load the history of room "${roomId}"; try joining again`,
        "history_unavailable",
        { cause: error },
      );
    }
    if (this.#joined.get(roomId) !== membership) return;

    for (const message of history) {
      this.#peer.send(receiveMessageFrame(message));
    }
    const held = this.#release(membership);
    membership.announced = true;
    this.#chat.rooms.broadcast(roomId, joinRoomFrame(roomId, membership.name));
    const lastSeenId = Math.max(history.at(-1)?.id ?? 0, frame.since ?? 0);
    for (const frame of held) {
      if (frame.messageId === undefined || frame.messageId > lastSeenId) {
        this.#peer.send(frame.text);
      }
    }
  }

  /** Handles `leave-room`: the room and the leaver hear of it. */
  leave(frame: LeaveRoomFrame): void {
    const roomId = frame.room_id;
    const membership = this.#drop(roomId);
    if (!membership) {
      throw new ProtocolError(
        `Cannot leave room "${roomId}": you have not joined it`,
        "not_joined",
      );
    }
    const text = leaveRoomFrame(roomId, membership.name);
    if (membership.announced) this.#chat.rooms.broadcast(roomId, text);
    this.#peer.send(text);
  }

  /**
   * Handles `send-message`: stores it, then every member receives it. Not
   * `async`: a refusal is thrown at once, before the message is handed to
   * the store, and the dispatcher relies on that (see `createDispatcher`).
   */
  send(frame: SendMessageFrame): Promise<unknown> {
    const roomId = frame.room_id;
    if (!this.#joined.has(roomId)) {
      throw new ProtocolError(
        `Cannot send to room "${roomId}": join it first`,
        "not_joined",
      );
    }
    if (this.#bucket && !this.#bucket.take()) this.#refuseFlood();
    return this.#chat.post({
      room_id: roomId,
      from: frame.from,
      message: frame.message,
    }, "websocket");
  }

  /** Leaves every room; the remaining members hear a `leave-room` each. */
  close(): void {
    for (const roomId of [...this.#joined.keys()]) {
      const membership = this.#drop(roomId);
      if (membership?.announced) {
        this.#chat.rooms.broadcast(
          roomId,
          leaveRoomFrame(roomId, membership.name),
        );
      }
    }
  }

  /** The name this connection joined `roomId` under, once announced. */
  nameIn(roomId: string): string | undefined {
    const membership = this.#joined.get(roomId);
    return membership?.announced ? membership.name : undefined;
  }

  /** Sends a room's frame, or holds it while that room's history loads. */
  deliver(roomId: string, text: string, messageId?: number): void {
    if (this.#loading > 0) {
      const held = this.#joined.get(roomId)?.held;
      if (held) {
        held.push({ text, messageId });
        return;
      }
    }
    this.#peer.send(text);
  }

  /** The rooms this connection has joined. */
  get roomIds(): string[] {
    return [...this.#joined.keys()];
  }

  /** Refuses a message over the rate limit; a long flood closes the socket. */
  #refuseFlood(): never {
    const now = this.#now();
    if (now - this.#lastRefusedAt > FLOOD_QUIET_MS) this.#floodStartedAt = now;
    this.#lastRefusedAt = now;
    this.#chat.metrics.rateLimited.inc("websocket");
    if (now - (this.#floodStartedAt ?? now) >= this.#floodCloseMs) {
      this.#peer.close(1008, "rate limit exceeded for too long");
    }
    throw new ProtocolError(
      `rate limited: send at most ${this.#rate} messages per second; this one was not sent`,
      "rate_limited",
    );
  }

  #drop(roomId: string): Membership | undefined {
    const membership = this.#joined.get(roomId);
    if (!membership) return undefined;
    this.#joined.delete(roomId);
    this.#chat.rooms.remove(roomId, this);
    this.#release(membership);
    return membership;
  }

  #release(membership: Membership): HeldFrame[] {
    const held = membership.held ?? [];
    if (membership.held) {
      membership.held = undefined;
      this.#loading--;
    }
    return held;
  }
}
