import type { Peer } from "../peer.ts";
import type { ServerWebSocket } from "./_bun.ts";

/** The `readyState` of an open socket. */
const OPEN = 1;

/**
 * One of Bun's sockets as the chat core drives it. A class, not closures:
 * one small object per connection, and the fan-out finds the socket in it.
 */
export class BunPeer<T = unknown> implements Peer {
  /** The socket itself. */
  readonly socket: ServerWebSocket<T>;

  /** Wraps a socket that just opened. */
  constructor(socket: ServerWebSocket<T>) {
    this.socket = socket;
  }

  /** Sends a frame; `false` when Bun dropped it, having too much waiting. */
  send(text: string): boolean {
    return this.socket.readyState !== OPEN || this.socket.send(text) !== 0;
  }

  /** Bytes the kernel would not take yet. */
  bufferedAmount(): number {
    return this.socket.getBufferedAmount();
  }

  /** Starts the closing handshake, unless the socket is closing already. */
  close(code: number, reason: string): void {
    if (this.socket.readyState === OPEN) this.socket.close(code, reason);
  }
}
