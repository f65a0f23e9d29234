/**
 * A request the protocol refuses, such as sending to a room the connection
 * has not joined. The dispatcher answers it with an error frame; the
 * connection stays open.
 */
export class ProtocolError extends Error {
  /** A short machine-readable cause, counted in the metrics. */
  readonly reason: string;

  /**
   * Creates the error.
   *
   * @param message what the client reads
   * @param reason a short snake_case cause, e.g. `not_joined`
   */
  constructor(message: string, reason: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
    this.reason = reason;
  }
}
