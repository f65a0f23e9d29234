import { ProtocolError } from "../protocol_error.ts";

/**
 * A store that cannot do what it was asked right now: its database stayed
 * locked by another program past the deadline, the disk is full, the file
 * became read-only. Nothing was stored. The chat answers it as a refusal
 * with this message: `503` over REST, an error frame over a WebSocket.
 *
 * A store throws it (from any method) for a condition that may pass; a bug
 * stays a plain error.
 */
export class StoreUnavailableError extends ProtocolError {
  /** Creates the error with the message the client will read. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "store_unavailable", options);
    this.name = "StoreUnavailableError";
  }
}
