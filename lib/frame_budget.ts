import { ProtocolError } from "./protocol_error.ts";
import type { RateLimiter } from "./rate_limiter.ts";
import { TokenBucket } from "./token_bucket.ts";

/** Options of {@linkcode FrameBudget}. */
export interface FrameBudgetOptions {
  /**
   * Frames per second the connection may send (bursts of twice that); 0
   * turns the connection's own limit off.
   * @default {0}
   */
  rate?: number | undefined;
  /** The budget the connection shares with the others from its IP address. */
  perIp?: { limiter: RateLimiter; ip: string } | undefined;
  /**
   * A connection that stays over its budget this long is closed.
   * @default {10000}
   */
  floodCloseMs?: number | undefined;
  /**
   * A connection that has this many frames refused in one flood is closed,
   * however long it has lasted.
   * @default {10 times the burst, or Infinity without a rate}
   */
  floodCloseFrames?: number | undefined;
  /** Called once the connection has stayed over its budget too long. */
  onFlood?: (() => void) | undefined;
  /**
   * The clock, in milliseconds.
   * @default {performance.now}
   */
  now?: (() => number) | undefined;
}

/** How long without a refused frame ends a flood. */
const FLOOD_QUIET_MS = 1000;

/**
 * What one connection may send: every frame it sends, of any type and
 * valid or not, spends a token from its own bucket and from its IP
 * address's. A frame over either is refused; a connection that keeps
 * sending over its budget, for `floodCloseMs` or for `floodCloseFrames`
 * refused frames, is told to close.
 */
export class FrameBudget {
  readonly #rate: number;
  readonly #bucket: TokenBucket | undefined;
  readonly #perIp: FrameBudgetOptions["perIp"];
  readonly #floodCloseMs: number;
  readonly #floodCloseFrames: number;
  readonly #onFlood: () => void;
  readonly #now: () => number;
  /** When the current run of refused frames began. */
  #floodStartedAt = 0;
  #refusedInFlood = 0;
  #lastRefusedAt = -Infinity;

  /** Creates the budget of a newly opened connection. */
  constructor(options: FrameBudgetOptions = {}) {
    this.#rate = options.rate ?? 0;
    this.#now = options.now ?? (() => performance.now());
    this.#bucket = this.#rate > 0
      ? new TokenBucket({ rate: this.#rate, now: this.#now })
      : undefined;
    this.#perIp = options.perIp;
    this.#floodCloseMs = options.floodCloseMs ?? 10_000;
    this.#floodCloseFrames = options.floodCloseFrames ??
      (this.#rate > 0 ? 20 * this.#rate : Infinity);
    this.#onFlood = options.onFlood ?? (() => {});
  }

  /**
   * Spends one frame's token.
   *
   * @throws {ProtocolError} `rate_limited`, when the frame is over budget
   */
  spend(): void {
    if (this.#bucket && !this.#bucket.take()) {
      this.#refuse(
        `rate limited: send at most ${this.#rate} frames per second; this one was ignored`,
      );
    }
    const perIp = this.#perIp;
    if (!perIp) return;
    const decision = perIp.limiter.take(perIp.ip);
    if (!decision.allowed) {
      this.#refuse(
        `rate limited: too many frames from ${perIp.ip}; this one was ignored, retry in ${decision.retryAfterSeconds} s`,
      );
    }
  }

  #refuse(message: string): never {
    const now = this.#now();
    if (now - this.#lastRefusedAt > FLOOD_QUIET_MS) {
      this.#floodStartedAt = now;
      this.#refusedInFlood = 0;
    }
    this.#lastRefusedAt = now;
    if (
      now - this.#floodStartedAt >= this.#floodCloseMs ||
      ++this.#refusedInFlood >= this.#floodCloseFrames
    ) this.#onFlood();
    throw new ProtocolError(message, "rate_limited");
  }
}
