/**
 * A message the server refuses to store for now: over a client's budget, a
 * room too many, or a disk nearly full. REST answers it with its status (and
 * `Retry-After`), the WebSocket with an error frame.
 */
export class QuotaError extends Error {
  /** The HTTP status: 429 for a client over its budget, 503 for the server. */
  readonly status: 429 | 503;
  /** A short machine-readable cause, counted in the metrics. */
  readonly reason: string;
  /** Seconds after which trying again makes sense, if known. */
  readonly retryAfterSeconds: number | undefined;

  /** Creates the error with the message the client will read. */
  constructor(
    status: 429 | 503,
    message: string,
    reason: string,
    retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "QuotaError";
    this.status = status;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
