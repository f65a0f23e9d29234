import type { RedisClient } from "./redis_connection.ts";

/**
 * A Lua script, sent whole with each call (`EVAL`). Its keys are declared,
 * so it runs on a Redis Cluster too when they share a hash slot.
 *
 * Why not `EVALSHA`, which sends only the digest: a call by digest fails
 * when Redis does not know the script (after a restart, a failover or
 * `SCRIPT FLUSH`) and must be sent again, whole; but calls are pipelined,
 * and a later call sent in the meantime could then run first, storing a
 * client's second message before its first. Sending the script each time
 * costs Redis a digest of a few hundred bytes (its comments are left out)
 * and keeps every call in the order it was made.
 */
export class LuaScript {
  /** The Lua source, without its comment lines. */
  readonly source: string;

  /** Prepares a script; nothing is sent until it runs. */
  constructor(source: string) {
    this.source = source.split("\n")
      .filter((line) => !/^\s*--/.test(line) && line.trim() !== "")
      .join("\n");
  }

  /** Runs the script with `keys` and `args` on `client`. */
  run(
    client: RedisClient,
    keys: string[],
    args: string[],
  ): Promise<unknown> {
    return client.eval(this.source, { keys, arguments: args });
  }
}
