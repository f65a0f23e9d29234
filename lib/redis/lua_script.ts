import { createHash } from "node:crypto";
import { ErrorReply } from "@redis/client";
import type { RedisClient } from "./redis_connection.ts";

/**
 * A Lua script that runs by its SHA1 digest (`EVALSHA`), and is sent whole
 * (`EVAL`, which caches it again) when Redis does not know it, as after a
 * restart. Its keys are declared, so it runs on a Redis Cluster too when
 * they share a hash slot.
 */
export class LuaScript {
  /** The Lua source. */
  readonly source: string;
  /** Its SHA1 digest, as `EVALSHA` names it. */
  readonly sha1: string;

  /** Prepares a script; nothing is sent until it runs. */
  constructor(source: string) {
    this.source = source;
    this.sha1 = createHash("sha1").update(source).digest("hex");
  }

  /** Runs the script with `keys` and `args` on `client`. */
  async run(
    client: RedisClient,
    keys: string[],
    args: string[],
  ): Promise<unknown> {
    const options = { keys, arguments: args };
    try {
      return await client.evalSha(this.sha1, options);
    } catch (error) {
      if (
        !(error instanceof ErrorReply && error.message.startsWith("NOSCRIPT"))
      ) {
        throw error;
      }
      return await client.eval(this.source, options);
    }
  }
}
