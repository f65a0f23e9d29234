import type { Logger } from "../logger.ts";
import { Heartbeat } from "./heartbeat.ts";
import { RedisConnection } from "./redis_connection.ts";
import { RedisStore } from "./redis_store.ts";
import { RedisUnreachableError } from "./redis_unreachable_error.ts";
import { parseRedisUrl } from "./redis_url.ts";

/** Options of {@linkcode openRedisStore}. */
export interface OpenRedisStoreOptions {
  /** `redis://` or `rediss://` URL, with user, password and database. */
  url: string;
  /** Most messages a room keeps (`--history-max`); `Infinity` for all. */
  maxPerRoom: number;
  /** Where Redis going down and coming back is logged, once each time. */
  logger: Logger;
}

/** The Redis store of a server instance, and where its history is. */
export interface RedisHistory {
  /** The store; closing it ends the heartbeat and the connection. */
  store: RedisStore;
  /** `redis://host:port/db (N instances seen)`, without the password. */
  where: string;
}

/**
 * Connects the server to Redis for its history, as `--redis` asks: checks
 * that Redis answers, and joins the instances that share it with a
 * heartbeat.
 *
 * @throws {RedisUnreachableError} if Redis cannot be reached or refuses the login
 */
export async function openRedisStore(
  options: OpenRedisStoreOptions,
): Promise<RedisHistory> {
  const { logger } = options;
  const url = parseRedisUrl(options.url).redacted;
  const id = crypto.randomUUID();
  const connection = await RedisConnection.open({
    url: options.url,
    name: `chat-server:${id}`,
    onStateChange(up, error) {
      if (up) logger.info("redis.up", { url });
      else logger.error("redis.down", { url, error });
    },
  });
  const heartbeat = new Heartbeat(connection, { id });
  let live;
  try {
    ({ live } = await heartbeat.beat());
  } catch (error) {
    await connection.close();
    throw new RedisUnreachableError(
      url,
      (error as Error).message,
      { cause: error },
    );
  }
  heartbeat.start();
  const instances = `${live.length} instance${live.length === 1 ? "" : "s"}`;
  return {
    store: new RedisStore({ connection, maxPerRoom: options.maxPerRoom }),
    where: `${url} (${instances} seen)`,
  };
}
