/** What {@linkcode OpenSockets} needs of a runtime's WebSocket. */
export interface ClosableSocket {
  /** Starts the closing handshake with this code and reason. */
  close(code: number, reason: string): void;
}

/**
 * The WebSockets a server has open, so that a shutdown can close them all
 * and wait for their closing handshakes.
 */
export class OpenSockets<S extends ClosableSocket> implements Iterable<S> {
  #sockets = new Set<S>();
  #allClosed: PromiseWithResolvers<void> | undefined;

  /** Counts a socket as open (on its open event). */
  add(socket: S): void {
    this.#sockets.add(socket);
  }

  /** Counts a socket as closed (on its close event). */
  delete(socket: S): void {
    this.#sockets.delete(socket);
    if (this.#sockets.size === 0) this.#allClosed?.resolve();
  }

  /** Closes every open socket; resolves once each has reported its close. */
  closeAll(code: number, reason: string): Promise<void> {
    if (this.#sockets.size === 0) return Promise.resolve();
    this.#allClosed ??= Promise.withResolvers();
    for (const socket of this.#sockets) socket.close(code, reason);
    return this.#allClosed.promise;
  }

  /** How many sockets are open. */
  get size(): number {
    return this.#sockets.size;
  }

  /** The open sockets, in the order they opened. */
  [Symbol.iterator](): Iterator<S> {
    return this.#sockets.values();
  }
}
