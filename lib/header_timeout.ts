/** Options of {@linkcode HeaderTimeout}. */
export interface HeaderTimeoutOptions<C> {
  /** Seconds a connection may take to send a complete request head. */
  timeoutSeconds: number;
  /** Closes a connection that took too long. */
  onTimeout(connection: C): void;
  /**
   * The clock, in milliseconds.
   * @default {performance.now}
   */
  now?: (() => number) | undefined;
}

/**
 * The deadline of a request head: a connection that has not sent a
 * complete request head within the timeout, counted from when it opened or
 * from the end of its last answer, is closed. That ends silent connections,
 * slowloris heads sent a byte at a time, stalled WebSocket handshakes and
 * keep-alive connections left idle, which would otherwise each hold a file
 * descriptor and a place in their address's connection limit for ever.
 *
 * A connection is watched only while it waits for a request
 * ({@linkcode wait}); while one is answered, or once it is a WebSocket, it
 * is not. The connections are checked four times per timeout, so one is
 * closed between 1 and 1.25 timeouts after its clock started.
 */
export class HeaderTimeout<C> {
  readonly #timeoutMs: number;
  readonly #onTimeout: (connection: C) => void;
  readonly #now: () => number;
  /** When each waiting connection started waiting, oldest first. */
  readonly #waitingSince = new Map<C, number>();
  readonly #timer: ReturnType<typeof setInterval>;

  /** Starts checking. */
  constructor(options: HeaderTimeoutOptions<C>) {
    if (!(options.timeoutSeconds > 0)) {
      throw new RangeError(
        `timeoutSeconds must be positive, not ${options.timeoutSeconds}`,
      );
    }
    this.#timeoutMs = options.timeoutSeconds * 1000;
    this.#onTimeout = options.onTimeout;
    this.#now = options.now ?? (() => performance.now());
    this.#timer = setInterval(() => this.check(), this.#timeoutMs / 4);
  }

  /** Starts (or restarts) the clock of a connection that waits for a request. */
  wait(connection: C): void {
    // Deleted first, so the map stays in the order of the clocks' starts.
    this.#waitingSince.delete(connection);
    this.#waitingSince.set(connection, this.#now());
  }

  /** Stops the clock: a request arrived, or the connection closed. */
  stopWaiting(connection: C): void {
    this.#waitingSince.delete(connection);
  }

  /** Closes the connections whose time is up. */
  check(): void {
    const startedBy = this.#now() - this.#timeoutMs;
    for (const [connection, since] of this.#waitingSince) {
      if (since > startedBy) break;
      this.#waitingSince.delete(connection);
      this.#onTimeout(connection);
    }
  }

  /** How many connections wait for a request. */
  get waiting(): number {
    return this.#waitingSince.size;
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
