import type { Chat } from "./chat.ts";
import type {
  JoinRoomFrame,
  LeaveRoomFrame,
  SendMessageFrame,
} from "./contract.ts";
import { createDispatcher } from "./dispatcher.ts";
import { FrameBudget } from "./frame_budget.ts";
import {
  historyGapFrame,
  presenceFrame,
  receiveMessageFrame,
} from "./frames.ts";
import { Logger } from "./logger.ts";
import { Membership } from "./membership.ts";
import { Outbox } from "./outbox.ts";
import type { Peer } from "./peer.ts";
import { ProtocolError } from "./protocol_error.ts";
import { QuotaError } from "./quota_error.ts";
import type { RateLimiter } from "./rate_limiter.ts";
import type { StorageQuota } from "./storage_quota.ts";

/** Options of {@linkcode Connection}. */
export interface ConnectionOptions {
  /**
   * A number that tells the connection apart in the log.
   * @default {0}
   */
  id?: number | undefined;
  /**
   * The client's IP address, for the log and the per-IP budget.
   * @default {"unknown"}
   */
  clientIp?: string | undefined;
  /**
   * Largest accepted frame, in bytes of UTF-8.
   * @default {65536}
   */
  maxFrameBytes?: number | undefined;
  /**
   * Most rooms the connection may be in at once.
   * @default {100}
   */
  maxRooms?: number | undefined;
  /**
   * Frames per second the connection may send (bursts of twice that); 0
   * turns the limit off.
   * @default {0}
   */
  rateLimit?: number | undefined;
  /** Frames per second per IP address, shared by its connections. */
  ipLimiter?: RateLimiter | undefined;
  /** What the connection's IP address may store. */
  quota?: StorageQuota | undefined;
  /**
   * A connection that stays over its budget this long is closed (1008).
   * @default {10000}
   */
  floodCloseMs?: number | undefined;
  /**
   * Unsent bytes a reader may have waiting, for long, before it is closed
   * (1013).
   * @default {1048576}
   */
  maxBufferedBytes?: number | undefined;
  /**
   * Where the connection's life is logged.
   * @default {new Logger()}
   */
  logger?: Logger | undefined;
  /** Called once, when the connection has closed. */
  onClose?: ((info: CloseInfo) => void) | undefined;
}

/** How a connection ended. */
export interface CloseInfo {
  /** The WebSocket close code (1006 when the connection just ended). */
  code: number;
  /** The close reason, often empty. */
  reason: string;
}

/**
 * The one owner of a WebSocket's life, from its accepted upgrade to its
 * close. The runtime adapter hands it every frame that arrives and the end
 * of the socket; it alone decides what the connection still does.
 *
 * It is open until the first of: the socket ends, or the server closes it
 * (a reader that stopped reading, a flood, an idle timeout). From then on
 * the frames still queued are dropped, every handler stops at its next
 * step, and nothing can make it a room member again; every room it was in
 * has heard it leave.
 *
 * What each client frame does is here too: `join-room` sends the history
 * (in steps that wait for the socket), then announces the joiner;
 * `leave-room` and the close announce the leave; `send-message` stores the
 * message and the room hears it.
 */
export class Connection {
  readonly #chat: Chat;
  readonly #peer: Peer;
  readonly #outbox: Outbox;
  readonly #budget: FrameBudget;
  readonly #dispatch: (data: unknown) => Promise<void>;
  readonly #rooms = new Map<string, Membership>();
  readonly #maxRooms: number;
  readonly #logger: Logger;
  readonly #onClose: (info: CloseInfo) => void;
  readonly #logFields: { id: number; ip: string };
  readonly #quota: StorageQuota | undefined;
  #open = true;

  /** Takes over a WebSocket that was just accepted. */
  constructor(chat: Chat, peer: Peer, options: ConnectionOptions = {}) {
    this.#chat = chat;
    this.#peer = peer;
    this.#maxRooms = options.maxRooms ?? 100;
    this.#logger = options.logger ?? new Logger();
    this.#onClose = options.onClose ?? (() => {});
    const clientIp = options.clientIp ?? "unknown";
    this.#logFields = { id: options.id ?? 0, ip: clientIp };
    this.#quota = options.quota;
    this.#outbox = new Outbox(peer, {
      maxBufferedBytes: options.maxBufferedBytes,
      onSlow: () => {
        chat.metrics.slowClientCloses.inc();
        this.#end(1013, "client too slow: stopped reading");
      },
    });
    this.#budget = new FrameBudget({
      rate: options.rateLimit,
      perIp: options.ipLimiter && {
        limiter: options.ipLimiter,
        ip: clientIp,
      },
      floodCloseMs: options.floodCloseMs,
      onFlood: () => this.#end(1008, "rate limit exceeded for too long"),
    });
    this.#dispatch = createDispatcher({
      "join-room": (frame) => this.#join(frame),
      "leave-room": (frame) => this.#leave(frame),
      "send-message": (frame) => this.#send(frame),
    }, {
      maxFrameBytes: options.maxFrameBytes,
      isOpen: () => this.#open,
      spend: () => this.#spend(),
      admit: (frame) =>
        frame.type === "send-message" ? this.#admitMessage(frame) : undefined,
      reply: (text) => this.#outbox.send(text),
      close: (code, reason) => this.#end(code, reason),
      onRefuse: (reason) => chat.metrics.errors.inc(reason),
      onUnexpectedError: (error, type) =>
        this.#logger.error("frame.failed", { type, error }),
    });
    chat.metrics.connectionsOpened.inc();
    this.#logger.info("connection.open", this.#logFields);
  }

  /** Whether the connection is open: it handles frames and is in its rooms. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** The rooms this connection is in. */
  get roomIds(): string[] {
    return [...this.#rooms.keys()];
  }

  /**
   * Takes one incoming frame (text or binary). Frames take effect in the
   * order they came; the promise settles when this one has, and never
   * rejects.
   */
  receive(data: unknown): Promise<void> {
    return this.#dispatch(data);
  }

  /**
   * Ends the connection's life: it leaves every room (each hears it), and
   * the close is counted and logged. The adapter calls it when the socket
   * has ended; later calls do nothing.
   */
  close(info: CloseInfo = { code: 1005, reason: "" }): void {
    if (!this.#open) return;
    this.#open = false;
    this.#outbox.close();
    for (const roomId of [...this.#rooms.keys()]) this.#drop(roomId);
    this.#chat.metrics.connectionsClosed.inc(String(info.code));
    this.#logger.info("connection.close", { ...this.#logFields, ...info });
    this.#onClose(info);
  }

  /** Closes the socket from the server's side, and the connection at once. */
  #end(code: number, reason: string): void {
    if (!this.#open) return;
    this.#peer.close(code, reason);
    // Its closing handshake cannot finish while it does not read, so the
    // rooms hear now that it left.
    this.close({ code, reason });
  }

  #spend(): void {
    try {
      this.#budget.spend();
    } catch (error) {
      this.#chat.metrics.rateLimited.inc("websocket");
      throw error;
    }
  }

  /**
   * Whether this connection may send to the room, and its IP address store
   * one more message now.
   */
  #admitMessage(frame: SendMessageFrame): void | Promise<void> {
    if (!this.#rooms.has(frame.room_id)) {
      throw new ProtocolError(
        `Cannot send to room "${frame.room_id}": join it first`,
        "not_joined",
      );
    }
    const refused = (error: unknown): never => {
      if (!(error instanceof QuotaError)) throw error;
      if (error.status === 429) this.#chat.metrics.rateLimited.inc("websocket");
      throw new ProtocolError(error.message, error.reason);
    };
    try {
      return this.#quota?.admit(frame, this.#logFields.ip)?.catch(refused);
    } catch (error) {
      refused(error);
    }
  }

  /**
   * `join-room`: the history first (the recent messages, or those after
   * `since`), then the room hears of the join.
   */
  async #join(frame: JoinRoomFrame): Promise<void> {
    const roomId = frame.room_id;
    const existing = this.#rooms.get(roomId);
    if (existing) {
      throw new ProtocolError(
        `You already joined room "${roomId}" as "${existing.name}"`,
        "already_joined",
      );
    }
    if (this.#rooms.size >= this.#maxRooms) {
      throw new ProtocolError(
        `You can be in at most ${this.#maxRooms} rooms at once; leave one first`,
        "too_many_rooms",
      );
    }
    const membership = new Membership(
      frame.from,
      (text) => this.#outbox.send(text),
    );
    this.#rooms.set(roomId, membership);
    this.#chat.rooms.add(roomId, membership);
    const stillJoining = () => this.#rooms.get(roomId) === membership;

    let page;
    try {
      // First follow the room, then read its history: what is stored in
      // between comes both ways, and the membership gives it once.
      await this.#chat.bus.follow(roomId);
      if (!stillJoining()) return;
      page = await this.#chat.historyOnJoin(roomId, frame.since);
    } catch (error) {
      if (stillJoining()) this.#drop(roomId);
      throw new ProtocolError(
        `Could not load the history of room "${roomId}"; try joining again`,
        "history_unavailable",
        { cause: error },
      );
    }
    if (!stillJoining()) return;

    const { messages } = page;
    if (page.has_more && frame.since !== undefined) {
      this.#outbox.send(
        historyGapFrame(roomId, frame.since, messages[0]?.id ?? frame.since),
      );
    }
    for (const message of messages) {
      this.#outbox.send(receiveMessageFrame(message));
      if (this.#outbox.backlogged && !await this.#outbox.drained()) return;
      if (!stillJoining()) return;
    }
    const held = membership.release(messages.at(-1)?.id ?? 0, frame.since);
    membership.announced = true;
    this.#announce("join-room", roomId, membership);
    for (const text of held) this.#outbox.send(text);
  }

  /** `leave-room`: the room and the leaver hear of it. */
  #leave(frame: LeaveRoomFrame): void {
    const roomId = frame.room_id;
    const membership = this.#drop(roomId);
    if (!membership) {
      throw new ProtocolError(
        `Cannot leave room "${roomId}": you have not joined it`,
        "not_joined",
      );
    }
    this.#outbox.send(presenceFrame("leave-room", roomId, membership.name));
  }

  /**
   * `send-message`, once admitted: stores it, then every member receives
   * it. Not `async`: the message is handed to the store before this
   * returns, so that a client's sends are stored in the order they came
   * (see `createDispatcher`).
   */
  #send(frame: SendMessageFrame): Promise<unknown> {
    return this.#chat.post({
      room_id: frame.room_id,
      from: frame.from,
      message: frame.message,
    }, "websocket");
  }

  /** Leaves a room; if it was told of the join, it hears of the leave. */
  #drop(roomId: string): Membership | undefined {
    const membership = this.#rooms.get(roomId);
    if (!membership) return undefined;
    this.#rooms.delete(roomId);
    this.#chat.rooms.remove(roomId, membership);
    this.#chat.bus.unfollow(roomId);
    if (membership.announced) this.#announce("leave-room", roomId, membership);
    return membership;
  }

  /** Tells the room, on every instance, that this connection came or went. */
  #announce(
    type: "join-room" | "leave-room",
    roomId: string,
    { name }: Membership,
  ): void {
    this.#chat.bus.announce(
      { type, room_id: roomId, from: name },
      { connection: String(this.#logFields.id), from: name },
    );
  }
}
