/**
 * `Deno.serveHttp()`: HTTP served on one accepted connection, typed here
 * because Deno 2 keeps it but no longer declares it (it is "soft-removed"
 * in favour of `Deno.serve`). The names and shapes are Deno's own.
 *
 * The Deno adapter serves each connection itself, because `Deno.serve` (in
 * Deno 2.9) accepts every connection the system offers, with no hook
 * before a request head is complete and no cap: a flood of idle
 * connections runs it out of file descriptors, and its accept loop then
 * ends with `Too many open files`. Deno's other per-connection server,
 * `Deno[Deno.internal].serveHttpOnConnection()`, would do as well for
 * plain requests, but it ends the WebSocket of an upgraded connection as
 * soon as that connection's HTTP side is done, which is at once.
 * `Deno.serveHttp()` hands an upgraded connection to its WebSocket for good.
 *
 * @module
 */

/** One HTTP connection, serving one request after another. */
export interface HttpConn {
  /** The next request, or `null` once the connection has ended. */
  nextRequest(): Promise<RequestEvent | null>;
  /** Closes the connection (and whatever request it is serving). */
  close(): void;
}

/** A request, and the way to answer it. */
export interface RequestEvent {
  /** The request. */
  readonly request: Request;
  /**
   * Sends the answer; resolves once it has been written (after an upgrade:
   * once the WebSocket is open), rejects if the connection broke first.
   */
  respondWith(response: Response | Promise<Response>): Promise<void>;
}

/** Starts serving HTTP on an accepted connection. */
export function serveHttp(conn: Deno.Conn): HttpConn {
  return (Deno as unknown as { serveHttp(conn: Deno.Conn): HttpConn })
    .serveHttp(conn);
}
