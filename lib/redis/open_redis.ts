import type { Logger } from "../logger.ts";
import type { ChatMetrics } from "../metrics/chat_metrics.ts";
import type { RoomBus } from "../room_bus.ts";
import { Heartbeat } from "./heartbeat.ts";
import { Presence } from "./presence.ts";
import {
  RedisConnection,
  type RedisConnectionOptions,
} from "./redis_connection.ts";
import { RedisMetrics } from "./redis_metrics.ts";
import { RedisRoomBus } from "./redis_room_bus.ts";
import { RedisStore } from "./redis_store.ts";
import { RedisUnreachableError } from "./redis_unreachable_error.ts";
import { parseRedisUrl } from "./redis_url.ts";

/** Options of {@linkcode openRedis}. */
export interface OpenRedisOptions {
  /** `redis://` or `rediss://` URL, with user, password and database. */
  url: string;
  /** Most messages a room keeps (`--history-max`); `Infinity` for all. */
  maxPerRoom: number;
  /** Where Redis going down and coming back is logged, once each time. */
  logger: Logger;
  /** Where the Redis series of `GET /metrics` are added. */
  metrics: ChatMetrics;
  /**
   * Time between two heartbeats, in ms; an instance that misses three is
   * given up, and its members leave.
   * @default {2000}
   */
  heartbeatMs?: number | undefined;
}

/** What an instance on Redis runs on. */
export interface RedisParts {
  /** The history; closing it ends the heartbeat and the connection. */
  store: RedisStore;
  /** Fan-out and presence across the instances. */
  bus: RoomBus;
  /** `redis://host:port/db (N instances seen)`, without the password. */
  where: string;
}

/**
 * Connects the server to Redis, as `--redis` asks: checks that Redis
 * answers, joins the instances that share it with a heartbeat, and opens
 * the history and the room bus. Two connections: one for commands, and one
 * in subscriber mode for the rooms' channels.
 *
 * @throws {RedisUnreachableError} if Redis cannot be reached or refuses the login
 */
export async function openRedis(
  options: OpenRedisOptions,
): Promise<RedisParts> {
  const { logger } = options;
  const url = parseRedisUrl(options.url).redacted;
  const id = crypto.randomUUID();
  const metrics = new RedisMetrics();
  const connectionOptions: RedisConnectionOptions = {
    url: options.url,
    onCommand: (seconds) => metrics.commandSeconds.observe(seconds),
  };
  const connection = await RedisConnection.open({
    ...connectionOptions,
    name: `chat-server:${id}`,
    onStateChange(up, error) {
      if (up) logger.info("redis.up", { url });
      else logger.error("redis.down", { url, error });
    },
  });
  let subscriber;
  let live;
  const heartbeat = new Heartbeat(connection, {
    id,
    intervalMs: options.heartbeatMs,
  });
  try {
    // The subscriber's outages are the same as the commands': logged once.
    subscriber = await RedisConnection.open({
      ...connectionOptions,
      name: `chat-server:${id}:subscriber`,
    });
    ({ live } = await heartbeat.beat());
  } catch (error) {
    await subscriber?.close();
    await connection.close();
    if (error instanceof RedisUnreachableError) throw error;
    throw new RedisUnreachableError(
      url,
      (error as Error).message,
      { cause: error },
    );
  }
  const store = new RedisStore({
    connection,
    maxPerRoom: options.maxPerRoom,
    onPublish: (count) => metrics.published.inc("message", count),
  });
  const bus = new RedisRoomBus({
    heartbeat,
    presence: new Presence(connection, {
      instance: id,
      ttlMs: heartbeat.ttlMs,
      onPublish: (count) => metrics.published.inc("presence", count),
    }),
    subscriber,
    history: store,
    onRepair(_roomId, count) {
      metrics.gapRepairs.inc();
      metrics.repairedMessages.inc("", count);
    },
    onLost(roomId, from, to) {
      metrics.lostRanges.inc();
      metrics.lostMessages.inc("", to - from + 1);
      logger.warn("redis.messages_lost", { room: roomId, from, to });
    },
  });
  heartbeat.start();
  options.metrics.add(...metrics.series(connection, subscriber));
  const instances = `${live.length} instance${live.length === 1 ? "" : "s"}`;
  return { store, bus, where: `${url} (${instances} seen)` };
}
