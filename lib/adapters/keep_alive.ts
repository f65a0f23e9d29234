/** What {@linkcode KeepAlive} needs of a socket. */
export interface PingableSocket {
  /** Sends a ping frame, which a live peer answers with a pong. */
  ping(): void;
  /** Ends the connection at once, without a closing handshake. */
  terminate(): void;
}

/** Options of {@linkcode KeepAlive}. */
export interface KeepAliveOptions<S> {
  /** Seconds a socket may send nothing before it is closed; 0 turns it off. */
  timeoutSeconds: number;
  /** Closes a socket that timed out, and tells whoever needs to know. */
  onTimeout(socket: S): void;
  /**
   * The clock, in milliseconds.
   * @default {performance.now}
   */
  now?: (() => number) | undefined;
}

/** The reason Deno gives when it closes a socket at its idle timeout. */
export const IDLE_TIMEOUT_REASON = "No response from ping frame.";

interface Watch {
  heardAt: number;
  pinged: boolean;
  timedOut: boolean;
}

/**
 * Deno's idle timeout, for a runtime whose own one does not behave like it:
 * a socket that sent nothing for half the timeout gets a ping, and one still
 * silent at its end times out (Deno then closes it with 1001
 * {@linkcode IDLE_TIMEOUT_REASON}). A socket that has not finished closing at
 * the next check is ended without its closing handshake, since its peer is
 * gone.
 *
 * Bun's own `idleTimeout` counts in steps of four seconds (1 s becomes 8 s)
 * and drops the connection without a close frame, so the Bun adapter uses
 * this instead. The sockets are checked four times per timeout, so one
 * times out between 1 and 1.25 timeouts after its last frame.
 */
export class KeepAlive<S extends PingableSocket> {
  readonly #timeoutMs: number;
  readonly #onTimeout: (socket: S) => void;
  readonly #now: () => number;
  readonly #watches = new Map<S, Watch>();
  readonly #timer: ReturnType<typeof setInterval> | undefined;

  /** Starts checking (unless the timeout is 0). */
  constructor(options: KeepAliveOptions<S>) {
    this.#timeoutMs = options.timeoutSeconds * 1000;
    this.#onTimeout = options.onTimeout;
    this.#now = options.now ?? (() => performance.now());
    if (this.#timeoutMs > 0) {
      this.#timer = setInterval(() => this.check(), this.#timeoutMs / 4);
    }
  }

  /** Starts watching a socket that just opened. */
  add(socket: S): void {
    if (!this.#timer) return;
    this.#watches.set(socket, {
      heardAt: this.#now(),
      pinged: false,
      timedOut: false,
    });
  }

  /** Notes that a socket sent a frame (a message, a ping or a pong). */
  heard(socket: S): void {
    const watch = this.#watches.get(socket);
    if (!watch) return;
    watch.heardAt = this.#now();
    watch.pinged = false;
  }

  /** Stops watching a socket that closed. */
  delete(socket: S): void {
    this.#watches.delete(socket);
  }

  /** Pings the quiet sockets and times out the silent ones. */
  check(): void {
    const now = this.#now();
    for (const [socket, watch] of this.#watches) {
      const silentMs = now - watch.heardAt;
      if (watch.timedOut) {
        this.#watches.delete(socket);
        socket.terminate();
      } else if (silentMs >= this.#timeoutMs) {
        watch.timedOut = true;
        this.#onTimeout(socket);
      } else if (silentMs >= this.#timeoutMs / 2 && !watch.pinged) {
        watch.pinged = true;
        socket.ping();
      }
    }
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
