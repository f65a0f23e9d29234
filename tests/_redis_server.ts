/**
 * Whether the tests that need a real `redis-server` run. They start it
 * themselves with `startRedisServer()` (`scripts/_redis_server.ts`).
 *
 * @module
 */
import {
  REDIS_SERVER,
  redisServerInstalled,
} from "../scripts/_redis_server.ts";

/**
 * Whether the Redis tests run: with `redis-server` installed, or in CI,
 * where its absence must fail them rather than skip them. Without it, a
 * developer's run says loudly that they were skipped.
 */
export function redisTestsEnabled(): boolean {
  if (redisServerInstalled() || Deno.env.get("CI") === "true") return true;
  warnOnce();
  return false;
}

let warned = false;

function warnOnce(): void {
  if (warned) return;
  warned = true;
  console.error(
    [
      "",
      "!".repeat(76),
      `!! SKIPPING THE REDIS TESTS: no ${REDIS_SERVER} on the PATH.`,
      "!! Install it with:  apt-get install -y redis-server   (CI does this itself)",
      "!".repeat(76),
      "",
    ].join("\n"),
  );
}
