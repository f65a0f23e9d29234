import { RateLimiter } from "./rate_limiter.ts";

/** Options of {@linkcode Admission}. */
export interface AdmissionOptions {
  /**
   * Most WebSocket connections open at once.
   * @default {10000}
   */
  maxConnections?: number | undefined;
  /**
   * Most connections from one IP address open at once, counted from the
   * moment they are accepted: its WebSockets, and where the runtime shows
   * them (Deno) its HTTP connections too, the ones that have not sent a
   * request yet included. 0 means no limit.
   * @default {256}
   */
  maxConnectionsPerIp?: number | undefined;
  /**
   * New connections per second from one IP address, in bursts of twice
   * that; 0 means no limit.
   * @default {50}
   */
  ipConnectRate?: number | undefined;
  /**
   * Most connections open at once, WebSocket or not: kept below the
   * process's open-file limit, so that accepting one never runs the
   * process out of file descriptors.
   * @default {Infinity}
   */
  maxOpenConnections?: number | undefined;
  /**
   * Origins whose pages may open a WebSocket; empty allows all. Clients
   * that send no `Origin` (anything but a browser) are always allowed.
   * @default {[]}
   */
  allowedOrigins?: readonly string[] | undefined;
  /**
   * The clock of the connect rate, in milliseconds.
   * @default {performance.now}
   */
  now?: (() => number) | undefined;
}

/** Why a connection or an upgrade was refused, as an HTTP answer. */
export interface Refusal {
  /** The HTTP status: 403 for the origin, 503 for the limits. */
  status: number;
  /** The message of the JSON error body. */
  error: string;
  /** A short cause, for the metrics. */
  reason: string;
}

/**
 * Decides who may connect and who may open a WebSocket, and counts what is
 * open: connections in total and per IP address, and WebSockets.
 *
 * A runtime adapter admits a connection where it first sees one (Deno: as
 * it accepts it; Bun, which shows none before its first request: at the
 * WebSocket upgrade) with {@linkcode admit} and {@linkcode enter}, and
 * checks every upgrade with {@linkcode check}.
 */
export class Admission {
  readonly #maxConnections: number;
  readonly #maxPerIp: number;
  readonly #maxOpen: number;
  readonly #connectRate: RateLimiter | undefined;
  readonly #allowedOrigins: ReadonlySet<string>;
  readonly #perIp = new Map<string, number>();
  #connections = 0;
  #webSockets = 0;
  #closing = false;

  /** Creates the gate. */
  constructor(options: AdmissionOptions = {}) {
    this.#maxConnections = options.maxConnections ?? 10_000;
    this.#maxPerIp = options.maxConnectionsPerIp ?? 256;
    this.#maxOpen = options.maxOpenConnections ?? Infinity;
    const rate = options.ipConnectRate ?? 50;
    this.#connectRate = rate > 0
      ? new RateLimiter({ rate, now: options.now })
      : undefined;
    this.#allowedOrigins = new Set(options.allowedOrigins ?? []);
  }

  /**
   * Why a new connection from `ip` is refused, if it is: the server holds
   * as many connections as it may, or the address has too many open or
   * opens them too fast. An admitted connection spends from its address's
   * connect rate; count it with {@linkcode enter}. (While the server shuts
   * down, requests are still answered: `/readyz` says so.)
   *
   * @param ip the client's address, or `undefined` for a connection from a
   *   trusted reverse proxy, which carries many clients: only the server's
   *   cap applies to it
   */
  admit(ip: string | undefined): Refusal | undefined {
    if (this.#connections >= this.#maxOpen) {
      return serverFull(this.#maxOpen);
    }
    return ip === undefined ? undefined : this.admitAddress(ip);
  }

  /**
   * Why one more connection from the client at `ip` is refused, if it is:
   * its address's limit and connect rate (an admitted one spends from the
   * rate; count it with {@linkcode enterAddress}). For a client behind a
   * trusted proxy, whose connection is counted in total already.
   */
  admitAddress(ip: string): Refusal | undefined {
    if (this.#maxPerIp > 0 && (this.#perIp.get(ip) ?? 0) >= this.#maxPerIp) {
      return {
        status: 503,
        error: `too many connections from ${ip}: at most ${this.#maxPerIp}`,
        reason: "ip_full",
      };
    }
    const rate = this.#connectRate?.take(ip);
    if (rate && !rate.allowed) {
      return {
        status: 503,
        error:
          `too many new connections from ${ip}: try again in ${rate.retryAfterSeconds} s`,
        reason: "ip_connect_rate",
      };
    }
    return undefined;
  }

  /**
   * Counts a connection from `ip` (`undefined`: a trusted proxy) as open.
   *
   * @returns the function that counts it closed (only once)
   */
  enter(ip: string | undefined): () => void {
    this.#connections++;
    const leaveAddress = ip === undefined ? undefined : this.enterAddress(ip);
    return once(() => {
      this.#connections--;
      leaveAddress?.();
    });
  }

  /**
   * Counts one more connection for the address `ip`, not in total.
   *
   * @returns the function that counts it closed (only once)
   */
  enterAddress(ip: string): () => void {
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    return once(() => {
      const count = (this.#perIp.get(ip) ?? 1) - 1;
      if (count > 0) this.#perIp.set(ip, count);
      else this.#perIp.delete(ip);
    });
  }

  /** Why a WebSocket upgrade from a page of this `Origin` is refused, if it is. */
  check(origin: string | null): Refusal | undefined {
    if (this.#closing) {
      return {
        status: 503,
        error: "server shutting down",
        reason: "shutting_down",
      };
    }
    if (
      origin !== null && this.#allowedOrigins.size > 0 &&
      !this.#allowedOrigins.has(origin)
    ) {
      return {
        status: 403,
        error: `Origin "${origin}" may not open a WebSocket here`,
        reason: "origin_forbidden",
      };
    }
    if (this.#webSockets >= this.#maxConnections) {
      return serverFull(this.#maxConnections);
    }
    return undefined;
  }

  /**
   * Counts a WebSocket as open.
   *
   * @returns the function that counts it closed (only once)
   */
  enterWebSocket(): () => void {
    this.#webSockets++;
    return once(() => void this.#webSockets--);
  }

  /** Refuses every upgrade from now on. */
  close(): void {
    this.#closing = true;
  }

  /** Whether {@linkcode close} was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Open connections, WebSocket or not. */
  get connections(): number {
    return this.#connections;
  }

  /** Open WebSockets. */
  get webSockets(): number {
    return this.#webSockets;
  }
}

function serverFull(max: number): Refusal {
  return {
    status: 503,
    error: `server is full: ${max} ${
      max === 1 ? "connection is" : "connections are"
    } open, try again later`,
    reason: "server_full",
  };
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
