/**
 * One connection to Redis that never hangs: the one place where every Redis
 * command gets a deadline, and where a timed PING decides whether Redis is
 * up.
 *
 * The client is node-redis (`@redis/client`, the client package that the
 * `redis` package re-exports, without the modules for RedisJSON, Search and
 * the like). Both node-redis and ioredis ran the same trials here on Deno
 * and on Bun, from source, from the bundle and from the Bun executable:
 * sharded pub/sub, scripts, URLs with user, password and database, Redis
 * killed and restarted in a loop. Both recovered. node-redis was chosen as
 * the client Redis maintains and recommends for new code, with a script
 * loader, Redis Functions and a cluster client that routes `SSUBSCRIBE` by
 * slot. Its own `timeout` option only bounds the wait before a command is
 * written, not the wait for the reply, so a paused or half-open Redis
 * would hang a command for ever (ioredis's `commandTimeout` does bound the
 * reply); hence the deadline here.
 *
 * @module
 */
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  createClient,
  ErrorReply,
  ReconnectStrategyError,
  type RedisClientType,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from "@redis/client";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";
import { RedisUnreachableError } from "./redis_unreachable_error.ts";
import { parseRedisUrl } from "./redis_url.ts";

/** The node-redis client this connection drives. */
export type RedisClient = RedisClientType;

/** Options of {@linkcode RedisConnection.open}. */
export interface RedisConnectionOptions {
  /** `redis://` or `rediss://` URL, with user, password and database. */
  url: string;
  /**
   * Longest a command may take, from the call to the reply.
   * @default {2000}
   */
  commandTimeoutMs?: number | undefined;
  /**
   * Time between two health PINGs.
   * @default {1000}
   */
  healthIntervalMs?: number | undefined;
  /**
   * Longest the client may try to reconnect on its own before it is
   * replaced by a new one (a handshake stuck on a dead socket never ends).
   * @default {5000}
   */
  stuckAfterMs?: number | undefined;
  /** The name Redis shows for this connection (`CLIENT LIST`). */
  name?: string | undefined;
  /**
   * Called when Redis stops answering and when it answers again; once per
   * change, never per command.
   */
  onStateChange?: ((up: boolean, error?: unknown) => void) | undefined;
  /**
   * Called after each {@linkcode RedisConnection.run} that was sent, with
   * how long it took in seconds, whether it succeeded or not.
   */
  onCommand?: ((seconds: number) => void) | undefined;
}

/**
 * A Redis connection whose every command either answers within a deadline
 * or fails with a {@linkcode StoreUnavailableError}. A PING every
 * `healthIntervalMs` tells whether Redis is up; while it is not, commands
 * fail at once. A client that reconnected onto a dead socket, where PING
 * gets no answer, is thrown away and replaced by a new one.
 */
export class RedisConnection {
  /** The URL without its password. */
  readonly redactedUrl: string;
  #options: RedisConnectionOptions;
  #commandTimeoutMs: number;
  #stuckAfterMs: number;
  #client: RedisClient;
  #up = true;
  #lastError: unknown;
  /** When the client was last seen ready; for spotting a stuck one. */
  #readySince = Date.now();
  #health: ReturnType<typeof setInterval> | undefined;
  #checking: Promise<void> | undefined;
  #readyListeners = new Set<() => void>();
  #closeListeners: (() => unknown)[] = [];
  #closed = false;

  private constructor(options: RedisConnectionOptions, client: RedisClient) {
    this.#options = options;
    this.redactedUrl = parseRedisUrl(options.url).redacted;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.#stuckAfterMs = options.stuckAfterMs ?? 5000;
    this.#client = client;
    this.#watch(client);
    this.#health = setInterval(
      () => this.checkHealth(),
      options.healthIntervalMs ?? 1000,
    );
  }

  /**
   * Connects and checks that Redis answers a PING.
   *
   * @throws {RedisUnreachableError} naming the URL and what went wrong
   */
  static async open(options: RedisConnectionOptions): Promise<RedisConnection> {
    const { redacted } = parseRedisUrl(options.url);
    const timeoutMs = options.commandTimeoutMs ?? 2000;
    let connected = false;
    const client = newClient(options, () => connected);
    // The first connection is tried once, so that a wrong address or
    // password fails at start-up instead of being retried for ever.
    let failure: unknown;
    const onError = (error: unknown) => failure ??= error;
    client.on("error", onError);
    try {
      await deadline(client.connect(), timeoutMs * 2, "connecting");
      await deadline(client.ping(), timeoutMs, "PING");
    } catch (error) {
      client.destroy();
      const cause = failure ?? error;
      throw new RedisUnreachableError(redacted, describe(cause), { cause });
    }
    // Not removeAllListeners(): node-redis hands out an object whose
    // prototype is the client, and emptying the listeners there would give
    // the object listeners of its own that the client never calls.
    client.off("error", onError);
    connected = true;
    return new RedisConnection(options, client);
  }

  /** Whether the last PING or command found Redis answering. */
  get up(): boolean {
    return this.#up;
  }

  /**
   * The client as it is now, for subscriptions. It is replaced when it got
   * stuck: subscribe again on {@linkcode onReady}.
   */
  get client(): RedisClient {
    return this.#client;
  }

  /**
   * Runs commands on the client, within the deadline. While Redis is down
   * it fails at once.
   *
   * @param what names the work in error messages, such as "append"
   * @throws {StoreUnavailableError} if Redis is down or does not answer in time
   */
  async run<T>(
    what: string,
    commands: (client: RedisClient) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new Error("The Redis connection is closed");
    if (!this.#up) throw this.#unavailable(what, this.#lastError);
    const startedAt = performance.now();
    try {
      const result = await deadline(
        commands(this.#client),
        this.#commandTimeoutMs,
        what,
      );
      this.#timed(startedAt);
      return result;
    } catch (error) {
      this.#timed(startedAt);
      if (!isOutage(error)) throw error;
      this.#down(error);
      // A command that got no answer may sit on a dead socket: check now.
      if (error instanceof DeadlineError) this.checkHealth();
      throw this.#unavailable(what, error);
    }
  }

  /**
   * Resolves if Redis answers a PING within the deadline.
   *
   * @throws {StoreUnavailableError} otherwise
   */
  async ping(): Promise<void> {
    if (this.#closed) throw new Error("The Redis connection is closed");
    await this.checkHealth();
    if (!this.#up) throw this.#unavailable("PING", this.#lastError);
  }

  /**
   * Calls `listener` each time the client is ready again after a lost
   * connection (its own reconnection, or a new client); subscriptions are
   * made again then. Returns a function that removes the listener.
   */
  onReady(listener: () => void): () => void {
    this.#readyListeners.add(listener);
    return () => this.#readyListeners.delete(listener);
  }

  /**
   * Calls `listener` (and waits for it) when the connection is being
   * closed, before the client is: what runs on the connection stops first.
   */
  onClose(listener: () => unknown): void {
    this.#closeListeners.push(listener);
  }

  /**
   * PINGs Redis now, unless a check is running, and updates {@linkcode up}.
   * A client that does not answer in time, or has tried to reconnect for too
   * long, is replaced. Never rejects.
   */
  checkHealth(): Promise<void> {
    return this.#checking ??= (async () => {
      const client = this.#client;
      try {
        await deadline(client.ping(), this.#commandTimeoutMs, "PING");
        this.#readySince = Date.now();
        this.#setUp();
      } catch (error) {
        this.#down(error);
        const stuck = Date.now() - this.#readySince > this.#stuckAfterMs;
        if ((error instanceof DeadlineError || stuck) && !this.#closed) {
          this.#replace(client);
        }
      } finally {
        this.#checking = undefined;
      }
    })();
  }

  /** Stops the health checks and closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const listener of this.#closeListeners.splice(0)) {
      await listener();
    }
    this.#closed = true;
    clearInterval(this.#health);
    await this.#checking;
    const client = this.#client;
    try {
      await deadline(client.close(), this.#commandTimeoutMs, "closing");
    } catch {
      client.destroy();
    }
  }

  #timed(startedAt: number): void {
    this.#options.onCommand?.((performance.now() - startedAt) / 1000);
  }

  /** Drops a stuck client and connects a new one in the background. */
  #replace(stuck: RedisClient): void {
    if (stuck !== this.#client) return;
    stuck.destroy();
    const client = newClient(this.#options, () => true);
    this.#client = client;
    this.#readySince = Date.now();
    this.#watch(client);
    client.connect().catch(() => {
      // Reported through "error" events; the health check tries again.
    });
  }

  #watch(client: RedisClient): void {
    client.on("error", (error) => {
      if (client === this.#client && isOutage(error)) this.#down(error);
    });
    client.on("ready", () => {
      if (client !== this.#client || this.#closed) return;
      this.#readySince = Date.now();
      // Ready means Redis answered the handshake: it is up.
      this.#setUp();
      for (const listener of this.#readyListeners) listener();
    });
  }

  #setUp(): void {
    if (this.#up) return;
    this.#up = true;
    this.#lastError = undefined;
    this.#options.onStateChange?.(true);
  }

  #down(error: unknown): void {
    this.#lastError = error;
    if (!this.#up || this.#closed) return;
    this.#up = false;
    this.#options.onStateChange?.(false, error);
  }

  #unavailable(what: string, cause: unknown): StoreUnavailableError {
    return new StoreUnavailableError(
      `Redis at ${this.redactedUrl} is unavailable (${what}: ${
        describe(cause)
      }); try again in a moment`,
      { cause },
    );
  }
}

/** A command that got no answer within its deadline. */
class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "DeadlineError";
    this.cause = what;
  }
}

/** `promise`, or a {@linkcode DeadlineError} after `ms`. */
async function deadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A client that reconnects on its own, quickly at first and then every two
 * seconds, and that refuses commands while disconnected instead of queueing
 * them. Before `reconnects()` holds, a failed connection is final.
 */
function newClient(
  options: RedisConnectionOptions,
  reconnects: () => boolean,
): RedisClient {
  const client = createClient({
    url: options.url,
    ...options.name === undefined ? {} : { name: options.name },
    disableOfflineQueue: true,
    // The deadline is run()'s: node-redis's own (5 s by default) starts an
    // AbortSignal.timeout() per command, whose timer fires, and makes an
    // error, even after the command was answered.
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: options.commandTimeoutMs ?? 2000,
      reconnectStrategy: (retries, cause) =>
        reconnects() ? Math.min(50 * 2 ** retries, 2000) : cause,
    },
  });
  // Without a listener, an "error" event would end the process.
  client.on("error", () => {});
  return client;
}

/** What the client throws when it has no working connection. */
const CONNECTION_ERRORS = [
  DeadlineError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
];

/**
 * Whether an error means Redis cannot be reached, rather than that it
 * refused this command: no connection, a socket error (`ECONNREFUSED`...),
 * or the reply of a server that is loading, failing over or out of memory.
 */
function isOutage(error: unknown): boolean {
  if (error instanceof ErrorReply) {
    return /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|OOM|READONLY)\b/
      .test(error.message);
  }
  return CONNECTION_ERRORS.some((type) => error instanceof type) ||
    typeof (error as { code?: unknown })?.code === "string";
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, " ").trim() || "no reason given";
}
