/** Options of {@linkcode Admission}. */
export interface AdmissionOptions {
  /**
   * Most WebSocket connections open at once.
   * @default {10000}
   */
  maxConnections?: number | undefined;
  /**
   * Most connections from one IP address; 0 means no limit (a classroom
   * behind NAT shares one address).
   * @default {0}
   */
  maxConnectionsPerIp?: number | undefined;
  /**
   * Origins whose pages may open a WebSocket; empty allows all. Clients
   * that send no `Origin` (anything but a browser) are always allowed.
   * @default {[]}
   */
  allowedOrigins?: readonly string[] | undefined;
}

/** Why an upgrade was refused, as an HTTP answer. */
export interface Refusal {
  /** The HTTP status: 403 for the origin, 503 for the limits. */
  status: number;
  /** The message of the JSON error body. */
  error: string;
  /** A short cause, for the metrics. */
  reason: string;
}

/**
 * Decides whether a WebSocket upgrade may proceed, and counts the open
 * connections in total and per IP address.
 */
export class Admission {
  readonly #maxConnections: number;
  readonly #maxPerIp: number;
  readonly #allowedOrigins: ReadonlySet<string>;
  readonly #perIp = new Map<string, number>();
  #open = 0;
  #closing = false;

  /** Creates the gate. */
  constructor(options: AdmissionOptions = {}) {
    this.#maxConnections = options.maxConnections ?? 10_000;
    this.#maxPerIp = options.maxConnectionsPerIp ?? 0;
    this.#allowedOrigins = new Set(options.allowedOrigins ?? []);
  }

  /** Why an upgrade from `ip` with this `Origin` is refused, if it is. */
  check(origin: string | null, ip: string): Refusal | undefined {
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
    if (this.#open >= this.#maxConnections) {
      return {
        status: 503,
        error:
          `server is full: ${this.#maxConnections} connections are open, try again later`,
        reason: "server_full",
      };
    }
    if (this.#maxPerIp > 0 && (this.#perIp.get(ip) ?? 0) >= this.#maxPerIp) {
      return {
        status: 503,
        error: `too many connections from ${ip}: at most ${this.#maxPerIp}`,
        reason: "ip_full",
      };
    }
    return undefined;
  }

  /**
   * Counts a connection from `ip` as open.
   *
   * @returns the function that counts it closed (only once)
   */
  enter(ip: string): () => void {
    this.#open++;
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#open--;
      const count = (this.#perIp.get(ip) ?? 1) - 1;
      if (count > 0) this.#perIp.set(ip, count);
      else this.#perIp.delete(ip);
    };
  }

  /** Refuses every upgrade from now on. */
  close(): void {
    this.#closing = true;
  }

  /** Whether {@linkcode close} was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Open connections. */
  get open(): number {
    return this.#open;
  }
}
