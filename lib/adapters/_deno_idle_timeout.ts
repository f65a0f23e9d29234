/**
 * The idle timeout of a WebSocket upgraded on `Deno.serveHttp()`, held
 * back during the handshake so that it costs no more memory than on
 * `Deno.serve`.
 *
 * When an upgraded socket has an idle timeout, Deno 2.9's `respondWith()`
 * on `Deno.serveHttp()` (`ext/http/01_http.js`) adds a `close` listener to
 * it, `() => clearTimeout(ws[_idleTimeoutTimeout])`. That arrow function
 * closes over the whole scope of the request's `respondWith()`: its
 * `Request` (headers and all) and its `HttpConn`, which then live as long
 * as the socket does: about 4 KiB of heap for each idle socket. (`Deno.serve`
 * adds no such listener, and Deno cancels the timer itself when the socket
 * closes; the timer ends itself too once the socket is no longer open.)
 *
 * So the socket is upgraded with its idle timeout, switched off until the
 * handshake is done, then switched back on and started, as `respondWith()`
 * would have started it. Deno keeps both handles behind symbols of its own,
 * found here by their descriptions: where a later Deno names them
 * otherwise, the socket keeps Deno's own behaviour (the same pings, more
 * memory).
 *
 * @module
 */

/** Deno's `WebSocket` fields and method behind its symbols. */
interface IdleTimeoutInternals {
  [key: symbol]: unknown;
}

const DURATION = "[[idleTimeout]]";
const START = "[[serverHandleIdleTimeout]]";

/** Deno's method that (re)starts a server socket's idle timer. */
const startSymbol = symbolNamed(WebSocket.prototype, START);
/** Deno's field of a socket's idle timeout, found on the first socket. */
let durationSymbol: symbol | undefined;

/**
 * Switches off the idle timeout that `socket` was upgraded with, until
 * its handshake is done.
 *
 * @returns the function that switches it back on and starts it, to call
 *   once the handshake has been answered, or `undefined` when this Deno
 *   keeps its fields elsewhere (the timeout then stays as it was)
 */
export function holdIdleTimeout(socket: WebSocket): (() => void) | undefined {
  const internals = socket as unknown as IdleTimeoutInternals;
  const duration = durationSymbol ??= symbolNamed(socket, DURATION);
  if (!startSymbol || !duration) return undefined;
  const seconds = internals[duration];
  if (typeof seconds !== "number" || seconds <= 0) return undefined;
  const start = internals[startSymbol];
  if (typeof start !== "function") return undefined;
  internals[duration] = 0;
  return () => {
    internals[duration] = seconds;
    if (socket.readyState === WebSocket.OPEN) start.call(socket);
  };
}

function symbolNamed(object: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(object).find((symbol) =>
    symbol.description === description
  );
}
