import heartbeatSource from "./heartbeat.lua" with { type: "text" };
import { LuaScript } from "./lua_script.ts";
import type { RedisConnection } from "./redis_connection.ts";
import { INSTANCES_KEY } from "./room_keys.ts";

const HEARTBEAT = new LuaScript(heartbeatSource);

/** Options of {@linkcode Heartbeat}. */
export interface HeartbeatOptions {
  /** The instance's id, unique among the instances sharing a Redis. */
  id: string;
  /**
   * Time between two beats.
   * @default {2000}
   */
  intervalMs?: number | undefined;
  /**
   * How long a beat keeps the instance alive: after that without one, any
   * other instance may give it up and remove its room members.
   * @default {3 * intervalMs}
   */
  ttlMs?: number | undefined;
}

/** What one heartbeat learned. */
export interface Beat {
  /** Redis's clock, in ms: presence expiry is measured by it. */
  now: number;
  /**
   * Whether the instance had expired (or was unknown) before this beat:
   * others may have removed its members, which it must add again.
   */
  revived: boolean;
  /** The ids of the live instances, this one included. */
  live: string[];
}

/**
 * Keeps a server instance in Redis's set of live instances: a beat every
 * `intervalMs` pushes its expiry `ttlMs` ahead, by Redis's clock. An
 * instance that dies stops beating, and expires.
 */
export class Heartbeat {
  /** The instance's id. */
  readonly id: string;
  #redis: RedisConnection;
  #intervalMs: number;
  #ttlMs: number;
  #beatListeners = new Set<(beat: Beat) => void>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #beating: Promise<unknown> = Promise.resolve();

  /** Creates the heartbeat; it beats from `start()` on. */
  constructor(connection: RedisConnection, options: HeartbeatOptions) {
    this.id = options.id;
    this.#redis = connection;
    this.#intervalMs = options.intervalMs ?? 2000;
    this.#ttlMs = options.ttlMs ?? 3 * this.#intervalMs;
    connection.onClose(() => this.stop());
  }

  /** How long a beat keeps the instance alive, in ms. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  /**
   * Beats once now.
   *
   * @throws {StoreUnavailableError} if Redis is unreachable
   */
  async beat(): Promise<Beat> {
    const [now, expired, live] = await this.#redis.run(
      "heartbeat",
      (client) =>
        HEARTBEAT.run(client, [INSTANCES_KEY], [
          this.id,
          String(this.#ttlMs),
        ]) as Promise<[number, number, string[]]>,
    );
    const beat = { now, revived: expired === 1, live };
    for (const listener of this.#beatListeners) listener(beat);
    return beat;
  }

  /**
   * Calls `listener` after each beat that reached Redis. Returns a function
   * that removes the listener.
   */
  onBeat(listener: (beat: Beat) => void): () => void {
    this.#beatListeners.add(listener);
    return () => this.#beatListeners.delete(listener);
  }

  /** Beats every `intervalMs` until `stop()`; a failed beat is skipped. */
  start(): void {
    this.#timer ??= setInterval(() => {
      // The connection reports an outage itself, once.
      this.#beating = this.beat().catch(() => {});
    }, this.#intervalMs);
  }

  /**
   * Stops beating and leaves the set of live instances, so that the others
   * know at once rather than after `ttlMs`.
   */
  async stop(): Promise<void> {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beating;
    await this.#redis.run(
      "leave",
      (client) => client.zRem(INSTANCES_KEY, this.id),
    )
      .catch(() => {});
  }
}
