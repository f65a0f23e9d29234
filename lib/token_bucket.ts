/** Options of {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second. */
  rate: number;
  /**
   * Most tokens the bucket holds, which is the largest burst it allows.
   * @default {2 * rate}
   */
  burst?: number | undefined;
  /**
   * The clock, in milliseconds.
   * @default {performance.now}
   */
  now?: (() => number) | undefined;
}

/**
 * A token bucket: each action takes a token, tokens come back at a steady
 * rate, and a full bucket allows a short burst.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;

  /** Creates a full bucket. */
  constructor(options: TokenBucketOptions) {
    if (!(options.rate > 0)) {
      throw new RangeError(`rate must be positive, not ${options.rate}`);
    }
    this.#rate = options.rate;
    this.#burst = options.burst ?? 2 * options.rate;
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = this.#burst;
    this.#updatedAt = this.#now();
  }

  /** Takes a token if there is one; `false` means over the limit. */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Seconds until the next token, rounded up (for `Retry-After`). */
  secondsUntilNextToken(): number {
    this.#refill();
    return Math.max(1, Math.ceil((1 - this.#tokens) / this.#rate));
  }

  /** Whether the bucket is full, so forgetting it loses nothing. */
  get isFull(): boolean {
    this.#refill();
    return this.#tokens >= this.#burst;
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = (now - this.#updatedAt) / 1000;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#rate);
    this.#updatedAt = now;
  }
}
