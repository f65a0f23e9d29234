/**
 * How a room's frames reach the members that are live in it: the seam where
 * a runtime adapter puts its own fan-out (Bun's native publish/subscribe).
 * {@linkcode Rooms} decides who is live in which room, and when; the fan-out
 * only carries the frames.
 *
 * @module
 */
import type { Outbox } from "./outbox.ts";

/** Carries a room's frames to its live members. */
export interface RoomFanout {
  /**
   * From the next {@linkcode publish} on, the room's frames reach this
   * connection: none published before.
   */
  subscribe(roomId: string, outbox: Outbox): void;
  /** From now on, the room's frames no longer reach this connection. */
  unsubscribe(roomId: string, outbox: Outbox): void;
  /**
   * Delivers one frame to every live member of a room; frames reach each
   * member in the order of the calls, and in order with what its outbox
   * sends. `live` holds the members' outboxes, as subscribed.
   */
  publish(roomId: string, text: string, live: ReadonlySet<Outbox>): void;
}

/**
 * The fan-out of a runtime without one of its own (Deno): one send per
 * live member, each under its outbox's slow-reader rule.
 */
export const SEND_TO_EACH: RoomFanout = {
  subscribe() {},
  unsubscribe() {},
  publish(_roomId, text, live) {
    for (const outbox of live) outbox.send(text);
  },
};
