import type { Outbox } from "./outbox.ts";
import { type RoomFanout, SEND_TO_EACH } from "./room_fanout.ts";

/**
 * A connection's place in a room, as the room sees it: a connection in
 * three rooms is three members.
 */
export interface RoomMember {
  /** The name in the room's member list; `undefined` until announced. */
  readonly listedName: string | undefined;
  /** Its connection's way out, which the fan-out reaches once it is live. */
  readonly outbox: Outbox;
  /**
   * Takes one frame of the room, already serialized, while the member is
   * not live. `messageId` is set for `receive-message` frames.
   */
  deliver(text: string, messageId?: number): void;
  /**
   * Whether the member may go live once the room has delivered every
   * message up to `deliveredId`: its history was sent, and it was sent no
   * message that the room has yet to deliver.
   */
  canGoLive(deliveredId: number): boolean;
}

/** One room's members on this instance. */
interface Room {
  /** Every member, in the order they joined. */
  readonly members: Set<RoomMember>;
  /** The members not yet live: each frame is handed to each of them. */
  readonly catchingUp: Set<RoomMember>;
  /** The outboxes of the live members, which the fan-out reaches. */
  readonly live: Set<Outbox>;
  /** The newest message id the room has delivered. */
  deliveredId: number;
}

/**
 * Which members are in which room, and how each receives the room's
 * frames. Empty rooms are dropped at once.
 *
 * A joiner is not live at first: it takes the room's frames one by one
 * (held while its history is sent, then filtered by message id). It goes
 * live, reached by the fan-out with everyone else, once its history was
 * sent and the room has delivered every message it was sent: a room's
 * messages are delivered in id order (the bus promises it), so none that
 * comes after can be one it has. The switch happens between two frames, in
 * one turn of the event loop, so it misses none and repeats none.
 */
export class Rooms {
  readonly #fanout: RoomFanout;
  readonly #rooms = new Map<string, Room>();

  /**
   * Creates the rooms of an instance.
   *
   * @param fanout how frames reach live members: the runtime's own, or one
   *   send per member
   */
  constructor(fanout: RoomFanout = SEND_TO_EACH) {
    this.#fanout = fanout;
  }

  /** Adds a member to a room, creating the room if needed; not live yet. */
  add(roomId: string, member: RoomMember): void {
    let room = this.#rooms.get(roomId);
    if (!room) {
      room = {
        members: new Set(),
        catchingUp: new Set(),
        live: new Set(),
        deliveredId: 0,
      };
      this.#rooms.set(roomId, room);
    }
    room.members.add(member);
    room.catchingUp.add(member);
  }

  /** Removes a member from a room, and the room once it is empty. */
  remove(roomId: string, member: RoomMember): void {
    const room = this.#rooms.get(roomId);
    if (!room?.members.delete(member)) return;
    if (!room.catchingUp.delete(member)) {
      room.live.delete(member.outbox);
      this.#fanout.unsubscribe(roomId, member.outbox);
    }
    if (room.members.size === 0) this.#rooms.delete(roomId);
  }

  /**
   * Hands one serialized frame to every member of a room: the live ones
   * through the fan-out, the others one by one. `messageId` is set for
   * `receive-message` frames.
   *
   * @returns how many members it was handed to
   */
  broadcast(roomId: string, text: string, messageId?: number): number {
    const room = this.#rooms.get(roomId);
    if (!room) return 0;
    if (messageId !== undefined && messageId > room.deliveredId) {
      room.deliveredId = messageId;
    }
    if (room.live.size > 0) this.#fanout.publish(roomId, text, room.live);
    if (room.catchingUp.size > 0) {
      for (const member of room.catchingUp) member.deliver(text, messageId);
      this.#goLive(roomId, room);
    }
    return room.members.size;
  }

  /**
   * The members of a room that may go live do: called when a joiner's
   * history was sent, to spare it the wait for the room's next message.
   */
  promote(roomId: string): void {
    const room = this.#rooms.get(roomId);
    if (room) this.#goLive(roomId, room);
  }

  /** The names of a room's members, each once, in the order they joined. */
  memberNames(roomId: string): string[] {
    const names = new Set<string>();
    for (const member of this.#rooms.get(roomId)?.members ?? []) {
      const name = member.listedName;
      if (name !== undefined) names.add(name);
    }
    return [...names];
  }

  /** Whether a room has at least one member. */
  has(roomId: string): boolean {
    return this.#rooms.has(roomId);
  }

  /** How many rooms have members. */
  get size(): number {
    return this.#rooms.size;
  }

  /** How many memberships there are across all rooms. */
  get memberships(): number {
    let count = 0;
    for (const room of this.#rooms.values()) count += room.members.size;
    return count;
  }

  /**
   * How many memberships take their rooms' frames one by one, not yet
   * through the fan-out: joiners whose history is being sent, or who wait
   * for their room to deliver a message as new as the newest they were sent.
   */
  get catchingUp(): number {
    let count = 0;
    for (const room of this.#rooms.values()) count += room.catchingUp.size;
    return count;
  }

  #goLive(roomId: string, room: Room): void {
    for (const member of room.catchingUp) {
      if (!member.canGoLive(room.deliveredId)) continue;
      room.catchingUp.delete(member);
      room.live.add(member.outbox);
      this.#fanout.subscribe(roomId, member.outbox);
    }
  }
}
