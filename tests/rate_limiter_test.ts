import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { RateLimiter } from "../lib/rate_limiter.ts";

Deno.test("RateLimiter.take() keeps one bucket per key", () => {
  let now = 0;
  const limiter = new RateLimiter({ rate: 1, burst: 2, now: () => now });
  assertEquals(limiter.take("a"), { allowed: true });
  assertEquals(limiter.take("a"), { allowed: true });
  assertEquals(limiter.take("a"), { allowed: false, retryAfterSeconds: 1 });
  assertEquals(
    limiter.take("b"),
    { allowed: true },
    "another key is not limited",
  );
  now += 1000;
  assertEquals(limiter.take("a"), { allowed: true });
});

Deno.test("RateLimiter forgets full buckets once it holds many keys", () => {
  let now = 0;
  const limiter = new RateLimiter({ rate: 1, burst: 1, now: () => now }, 3);
  for (const key of ["a", "b", "c"]) limiter.take(key);
  assertEquals(limiter.size, 3);
  now += 5000; // every bucket is full again
  limiter.take("d");
  assertEquals(limiter.size, 1);
});
