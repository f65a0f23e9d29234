/**
 * The part of Bun's API that the Bun adapter uses, typed here: this is a
 * Deno project, and `deno check` has no Bun types. The names and shapes are
 * Bun's own (see `Bun.serve` in Bun's reference).
 *
 * @module
 */

/** The `Bun` global. */
export interface Bun {
  /** Starts an HTTP and WebSocket server. */
  serve<T>(options: BunServeOptions<T>): BunServer;
}

/** What `Bun.serve()` takes. */
export interface BunServeOptions<T> {
  /** The address to listen on. */
  hostname: string;
  /** The port to listen on; 0 picks a free one. */
  port: number;
  /** Answers an HTTP request; `undefined` once it was upgraded. */
  fetch(
    request: Request,
    server: BunServer,
  ): Response | Promise<Response> | undefined;
  /** What upgraded sockets do. */
  websocket: BunWebSocketHandler<T>;
  /**
   * Seconds a connection may be idle (between requests) before Bun closes
   * it; at most 255.
   */
  idleTimeout: number;
}

/** A running `Bun.serve()` server. */
export interface BunServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on. */
  readonly port: number;
  /** Upgrades a request to a WebSocket; `false` if it is not a valid one. */
  upgrade(request: Request, options: { data: unknown }): boolean;
  /**
   * Hands a text frame to every socket subscribed to `topic`, in native
   * code; the bytes sent to each, or 0 when none is subscribed.
   */
  publish(topic: string, text: string): number;
  /** The client's address, or `null` for a closed connection. */
  requestIP(request: Request): { address: string } | null;
  /** Stops listening; `true` also closes the connections still open. */
  stop(closeActiveConnections: boolean): Promise<void>;
}

/** The WebSocket handlers and limits of `Bun.serve()`. */
export interface BunWebSocketHandler<T> {
  /** Larger frames close the connection (1009) before they are read. */
  maxPayloadLength: number;
  /** Bytes a socket may buffer; past it, `send()` drops the message. */
  backpressureLimit: number;
  /** Whether a socket past `backpressureLimit` is closed. */
  closeOnBackpressureLimit: boolean;
  /** Seconds without a frame before Bun drops a socket; 0 is never. */
  idleTimeout: number;
  /** Whether Bun pings idle sockets itself. */
  sendPings: boolean;
  /** A socket has opened. */
  open(ws: ServerWebSocket<T>): void;
  /** A frame has arrived. */
  message(ws: ServerWebSocket<T>, message: string | Uint8Array): void;
  /** A socket has closed. */
  close(ws: ServerWebSocket<T>, code: number, reason: string): void;
  /** A ping has arrived. */
  ping(ws: ServerWebSocket<T>): void;
  /** A pong has arrived. */
  pong(ws: ServerWebSocket<T>): void;
}

/** One of Bun's server-side WebSockets. */
export interface ServerWebSocket<T> {
  /** What `server.upgrade()` was given. */
  readonly data: T;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Returns -1 when queued behind backpressure, 0 when dropped. */
  send(text: string): number;
  /** Bytes queued that the kernel has not taken yet. */
  getBufferedAmount(): number;
  /** From now on the socket gets what is published to `topic`. */
  subscribe(topic: string): void;
  /** From now on the socket no longer gets what is published to `topic`. */
  unsubscribe(topic: string): void;
  /** Sends a ping. */
  ping(): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Ends the connection at once, without a closing handshake. */
  terminate(): void;
}

/** The `Bun` global, when running on Bun. */
export function bunGlobal(): Bun | undefined {
  return (globalThis as { Bun?: Bun }).Bun;
}
