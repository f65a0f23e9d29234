import type { PresenceEvent } from "../room_bus.ts";
import type { Member } from "./presence.ts";

/**
 * The members of one room on the other instances, as this instance's
 * members were told of them. It lets the bus tell each join and leave
 * once: a join of a member already on the roster (an instance that
 * announces its members again after an outage) or a leave of one not on it
 * is not told twice. And after this instance missed events (its
 * subscription was down), {@linkcode sync} compares the roster with the
 * members Redis lists and gives the joins and leaves that were missed.
 */
export class Roster {
  /** By instance and connection. */
  #members = new Map<string, Member>();
  #complete = false;

  /**
   * Whether the roster was filled from a list of the room's members: until
   * then it knows only the members whose joins it has seen.
   */
  get complete(): boolean {
    return this.#complete;
  }

  /**
   * Takes a join or leave published by another instance.
   *
   * @returns whether this instance's members are to hear of it
   */
  take(event: PresenceEvent & Member): boolean {
    const key = keyOf(event);
    if (event.type === "join-room") {
      if (this.#members.has(key)) return false;
      this.#members.set(key, event);
      return true;
    }
    // A leave of a member not on an incomplete roster may be of one that
    // joined before it was filled: better told than missed.
    return this.#members.delete(key) || !this.#complete;
  }

  /**
   * Becomes the list of the room's members on other instances that Redis
   * gave; a complete roster returns what its members missed: a leave for
   * each member gone, a join for each one new.
   */
  sync(roomId: string, members: Member[]): PresenceEvent[] {
    const now = new Map(members.map((member) => [keyOf(member), member]));
    const missed: PresenceEvent[] = [];
    if (this.#complete) {
      for (const [key, { from }] of this.#members) {
        if (!now.has(key)) {
          missed.push({ type: "leave-room", room_id: roomId, from });
        }
      }
      for (const [key, { from }] of now) {
        if (!this.#members.has(key)) {
          missed.push({ type: "join-room", room_id: roomId, from });
        }
      }
    }
    this.#members = now;
    this.#complete = true;
    return missed;
  }
}

function keyOf({ instance, connection }: Member): string {
  return `${instance}\n${connection}`;
}
