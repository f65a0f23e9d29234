/**
 * A connection's place in a room, as the room sees it: a connection in
 * three rooms is three members.
 */
export interface RoomMember {
  /** The name in the room's member list; `undefined` until announced. */
  readonly listedName: string | undefined;
  /**
   * Delivers a frame of the room, already serialized. `messageId` is set
   * for `receive-message` frames.
   */
  deliver(text: string, messageId?: number): void;
}

/** Which members are in which room. Empty rooms are dropped at once. */
export class Rooms {
  #rooms = new Map<string, Set<RoomMember>>();

  /** Adds a member to a room, creating the room if needed. */
  add(roomId: string, member: RoomMember): void {
    const members = this.#rooms.get(roomId);
    if (members) members.add(member);
    else this.#rooms.set(roomId, new Set([member]));
  }

  /** Removes a member from a room, and the room once it is empty. */
  remove(roomId: string, member: RoomMember): void {
    const members = this.#rooms.get(roomId);
    if (!members) return;
    members.delete(member);
    if (members.size === 0) this.#rooms.delete(roomId);
  }

  /**
   * Hands one serialized frame to every member of a room.
   *
   * @returns how many members it was handed to
   */
  broadcast(roomId: string, text: string, messageId?: number): number {
    const members = this.#rooms.get(roomId);
    if (!members) return 0;
    for (const member of members) member.deliver(text, messageId);
    return members.size;
  }

  /** The names of a room's members, each once, in the order they joined. */
  memberNames(roomId: string): string[] {
    const names = new Set<string>();
    for (const member of this.#rooms.get(roomId) ?? []) {
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
    for (const members of this.#rooms.values()) count += members.size;
    return count;
  }
}
