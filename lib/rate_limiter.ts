import { TokenBucket, type TokenBucketOptions } from "./token_bucket.ts";

/** The answer of {@linkcode RateLimiter.take}. */
export type RateDecision = { allowed: true } | {
  allowed: false;
  /** Seconds the caller should wait, for `Retry-After`. */
  retryAfterSeconds: number;
};

/**
 * One token bucket per key (a client IP address, say). Buckets that have
 * filled up again are forgotten, so the map does not grow with every
 * address ever seen.
 */
export class RateLimiter {
  readonly #options: TokenBucketOptions;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #sweepAt: number;

  /**
   * Creates a limiter.
   *
   * @param sweepAt how many keys trigger forgetting the full buckets
   */
  constructor(options: TokenBucketOptions, sweepAt = 1000) {
    this.#options = options;
    this.#sweepAt = sweepAt;
  }

  /** Takes a token from the key's bucket. */
  take(key: string): RateDecision {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#sweepAt) this.#sweep();
      bucket = new TokenBucket(this.#options);
      this.#buckets.set(key, bucket);
    }
    if (bucket.take()) return { allowed: true };
    return {
      allowed: false,
      retryAfterSeconds: bucket.secondsUntilNextToken(),
    };
  }

  /** How many keys have a bucket. */
  get size(): number {
    return this.#buckets.size;
  }

  #sweep(): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.isFull) this.#buckets.delete(key);
    }
  }
}
