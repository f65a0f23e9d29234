import type { Chat } from "./chat.ts";
import { createDispatcher } from "./dispatcher.ts";
import type { Peer } from "./peer.ts";
import { Session } from "./session.ts";

/** Options of {@linkcode openConnection}. */
export interface ConnectionOptions {
  /**
   * Largest accepted frame, in bytes of UTF-8.
   * @default {65536}
   */
  maxFrameBytes?: number | undefined;
}

/** What a socket adapter calls for the events of one WebSocket. */
export interface Connection {
  /** Handles one incoming frame (text or binary); never rejects. */
  receive(data: unknown): Promise<void>;
  /** Handles the socket's close: leaves every room. */
  close(): void;
}

/**
 * Wires a new WebSocket, seen as a {@linkcode Peer}, to the chat: one
 * session, and a dispatcher that sends each frame type to its handler.
 */
export function openConnection(
  chat: Chat,
  peer: Peer,
  options: ConnectionOptions = {},
): Connection {
  const session = new Session(chat, peer);
  const receive = createDispatcher(
    {
      "join-room": (frame) => session.join(frame),
      "leave-room": (frame) => session.leave(frame),
      "send-message": (frame) => session.send(frame),
    },
    (text) => peer.send(text),
    options,
  );
  return { receive, close: () => session.close() };
}
