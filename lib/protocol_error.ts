/**
 * A request the protocol refuses, such as sending to a room the connection
 * has not joined. The dispatcher answers it with an error frame; the
 * connection stays open.
 */
export class ProtocolError extends Error {
  /** Creates the error with the message the client will read. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}
