/**
 * What the chat core needs from a connection: a way to send it text and to
 * close it. The socket adapter of each runtime provides it, and tests can
 * use a plain object.
 */
export interface Peer {
  /** Sends one text frame; must not throw if the connection is closing. */
  send(text: string): void;
  /** Closes the connection with a WebSocket close code and reason. */
  close(code: number, reason: string): void;
}
