/**
 * The store cannot serve a request right now (its server is unreachable or
 * did not answer in time), though nothing is wrong with the request: the
 * same request may succeed a moment later. Callers answer it as "try again"
 * (HTTP 503, an error frame), not as a bug.
 */
export class StoreUnavailableError extends Error {
  /** Creates the error with the message a client will read. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
