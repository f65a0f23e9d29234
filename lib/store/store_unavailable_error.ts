import { ProtocolError } from "../protocol_error.ts";

/**
 * The store cannot do what it was asked right now, though nothing is wrong
 * with the request: its server is unreachable or did not answer in time,
 * its database stayed locked by another program past the deadline, the
 * disk is full, the file became read-only. The same request may succeed a
 * moment later, and nothing was stored. The chat answers it as "try again"
 * with this message: `503` over REST, an error frame over a WebSocket (it is
 * a {@linkcode ProtocolError}, reason `store_unavailable`), not as a bug.
 */
export class StoreUnavailableError extends ProtocolError {
  /** Creates the error with the message a client will read. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "store_unavailable", options);
    this.name = "StoreUnavailableError";
  }
}
