/**
 * How a room's events reach its members on every server instance, and who
 * those members are: the seam between the chat and the way instances share
 * rooms. One instance needs nothing more than {@linkcode LocalRoomBus};
 * several instances share theirs through Redis (`lib/redis/`).
 *
 * @module
 */
import type { StoredMessage } from "./contract.ts";

/** A join or a leave, as the bus carries it and members receive it. */
export interface PresenceEvent {
  /** Whether the member joined or left. */
  type: "join-room" | "leave-room";
  /** The room it joined or left. */
  room_id: string;
  /** The member's name in the room. */
  from: string;
}

/** A member of a room on this instance, as the bus knows it. */
export interface BusMember {
  /** Tells this instance's connections apart. */
  connection: string;
  /** The name it joined under. */
  from: string;
}

/** What the bus hands this instance, to deliver to its members. */
export interface RoomBusHandlers {
  /** A stored message of a room this instance follows: each once, in id order. */
  message(message: StoredMessage): void;
  /** A member of a room this instance follows joined or left. */
  presence(event: PresenceEvent): void;
}

/** Fan-out and presence, across every instance that shares the rooms. */
export interface RoomBus {
  /** Starts handing events to `handlers`; called once, before anything else. */
  start(handlers: RoomBusHandlers): void;
  /**
   * A local connection starts joining `roomId`: resolves once every event
   * of the room from then on will reach this instance, so that the
   * joiner's history, read after, leaves no gap. Every call is matched by
   * one {@linkcode unfollow}, even when it rejects.
   */
  follow(roomId: string): Promise<void>;
  /** A local connection is no longer in `roomId` (or never got in). */
  unfollow(roomId: string): void;
  /**
   * Tells every member on every instance that a local member joined or
   * left; from then on it is (or is no longer) listed in
   * {@linkcode memberNames}.
   */
  announce(event: PresenceEvent, member: BusMember): void;
  /** A message was stored: every member of its room, everywhere, gets it. */
  stored(message: StoredMessage): void;
  /** The names of a room's members on every instance, each once, in join order. */
  memberNames(roomId: string): Promise<string[]>;
  /** Stops; the instance's members are gone from every room. */
  close(): Promise<void>;
}

/**
 * The bus of a server that shares its rooms with no other: events are
 * delivered at once, and the members are the ones listed in this process.
 */
export class LocalRoomBus implements RoomBus {
  readonly #listedNames: (roomId: string) => string[];
  #handlers: RoomBusHandlers | undefined;

  /**
   * Creates the bus.
   *
   * @param listedNames the names of a room's members in this process
   */
  constructor(listedNames: (roomId: string) => string[]) {
    this.#listedNames = listedNames;
  }

  /** Starts handing events to `handlers`. */
  start(handlers: RoomBusHandlers): void {
    this.#handlers = handlers;
  }

  /** Nothing to wait for: every event is delivered in this process. */
  follow(_roomId: string): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to undo. */
  unfollow(_roomId: string): void {}

  /** Delivers the join or leave now. */
  announce(event: PresenceEvent, _member: BusMember): void {
    this.#handlers?.presence(event);
  }

  /** Delivers the message now. */
  stored(message: StoredMessage): void {
    this.#handlers?.message(message);
  }

  /** The members listed in this process. */
  memberNames(roomId: string): Promise<string[]> {
    return Promise.resolve(this.#listedNames(roomId));
  }

  /** Nothing to stop. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
