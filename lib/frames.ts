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

/** A `join-room` frame: `from` joined `roomId`. */
export function joinRoomFrame(roomId: string, from: string): string {
  return JSON.stringify({ type: "join-room", room_id: roomId, from });
}

/** A `leave-room` frame: `from` left `roomId`. */
export function leaveRoomFrame(roomId: string, from: string): string {
  return JSON.stringify({ type: "leave-room", room_id: roomId, from });
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
