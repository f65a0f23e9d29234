/**
 * A WebSocket as the chat core drives it: the runtime adapter's socket seen
 * through three calls. The adapter of each runtime provides it, and tests
 * can use a plain object.
 */
export interface Peer {
  /**
   * Sends one text frame; does nothing once the socket is closing.
   *
   * @returns `false` if the runtime dropped the frame, as Bun does when
   *   too much is waiting for the socket
   */
  send(text: string): boolean;
  /**
   * Bytes sent but not yet handed to the network. (Deno counts everything
   * sent in the current turn of the event loop; Bun only what the kernel
   * would not take. The core reads it only after the socket had a chance to
   * drain.)
   */
  bufferedAmount(): number;
  /** Starts the closing handshake; does nothing once the socket is closing. */
  close(code: number, reason: string): void;
}
