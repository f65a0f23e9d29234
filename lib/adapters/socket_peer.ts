import type { AcceptedConnection, ChatApp } from "../chat_app.ts";

/** What {@linkcode connectSocket} needs of a runtime's WebSocket. */
export interface RuntimeSocket {
  /** Whether frames can still be sent. */
  isOpen(): boolean;
  /** Sends one text frame. */
  send(text: string): void;
  /** Bytes sent but not yet handed to the network. */
  bufferedAmount(): number;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
}

/**
 * Connects an accepted WebSocket to the chat, with the rule every runtime
 * shares for a client that stops reading: once the bytes waiting for it pass
 * `maxBufferedBytes`, it is closed with 1013 and its rooms hear at once
 * that it left (its closing handshake cannot finish while it does not read).
 */
export function connectSocket(
  app: ChatApp,
  socket: RuntimeSocket,
  clientIp: string,
): AcceptedConnection {
  const { maxBufferedBytes } = app.socketLimits;
  const connection = app.connect({
    send(text) {
      if (!socket.isOpen()) return;
      socket.send(text);
      if (socket.bufferedAmount() > maxBufferedBytes) {
        app.chat.metrics.slowClientCloses.inc();
        socket.close(1013, "client too slow: stopped reading");
        connection.close({ code: 1013, reason: "client too slow" });
      }
    },
    close(code, reason) {
      if (socket.isOpen()) socket.close(code, reason);
    },
  }, clientIp);
  return connection;
}
