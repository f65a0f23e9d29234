import type { Chat } from "./chat.ts";
import { createDispatcher } from "./dispatcher.ts";
import { Logger } from "./logger.ts";
import type { Peer } from "./peer.ts";
import { Session, type SessionOptions } from "./session.ts";

/** Options of {@linkcode openConnection}. */
export interface ConnectionOptions extends SessionOptions {
  /**
   * Largest accepted frame, in bytes of UTF-8.
   * @default {65536}
   */
  maxFrameBytes?: number | undefined;
  /**
   * Where failures are logged.
   * @default {new Logger()}
   */
  logger?: Logger | undefined;
}

/** What a socket adapter calls for the events of one WebSocket. */
export interface Connection {
  /** Handles one incoming frame (text or binary); never rejects. */
  receive(data: unknown): Promise<void>;
  /** Handles the end of the socket: leaves every room. Safe to call twice. */
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
  const logger = options.logger ?? new Logger();
  const session = new Session(chat, peer, options);
  const receive = createDispatcher(
    {
      "join-room": (frame) => session.join(frame),
      "leave-room": (frame) => session.leave(frame),
      "send-message": (frame) => session.send(frame),
    },
    peer,
    {
      maxFrameBytes: options.maxFrameBytes,
      onRefuse: (reason) => chat.metrics.errors.inc(reason),
      onUnexpectedError: (error, type) =>
        logger.error("frame.failed", { type, error }),
    },
  );
  return { receive, close: () => session.close() };
}
