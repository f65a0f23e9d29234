/**
 * Serializers for the frames the server sends. Each returns the JSON text,
 * so a broadcast serializes once, not once per member.
 *
 * @module
 */
import type { StoredMessage } from "./contract.ts";

/** A `receive-message` frame for a stored message. */
export function receiveMessageFrame(message: StoredMessage): string {
  return JSON.stringify({ type: "receive-message", ...message });
}

/** A `join-room` or `leave-room` frame: `from` joined or left `roomId`. */
export function presenceFrame(
  type: "join-room" | "leave-room",
  roomId: string,
  from: string,
): string {
  return JSON.stringify({ type, room_id: roomId, from });
}

/**
 * A `history-gap` frame: the replay after `since` leaves out the messages
 * with ids between `after` and `before`.
 */
export function historyGapFrame(
  roomId: string,
  after: number,
  before: number,
): string {
  return JSON.stringify({
    type: "history-gap",
    room_id: roomId,
    after,
    before,
  });
}

/** An `error` frame that tells the client what was wrong with its frame. */
export function errorFrame(error: string): string {
  return JSON.stringify({ type: "error", error });
}
