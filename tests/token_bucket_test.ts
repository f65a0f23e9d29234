import {
  deepStrictEqual as assertEquals,
  throws as assertThrows,
} from "node:assert/strict";
import { TokenBucket } from "../lib/token_bucket.ts";

Deno.test("TokenBucket.take() allows a burst, then the steady rate", () => {
  let now = 0;
  const bucket = new TokenBucket({ rate: 20, now: () => now });
  const taken = Array.from({ length: 45 }, () => bucket.take());
  assertEquals(taken.filter(Boolean).length, 40, "a burst of twice the rate");
  now += 50; // one token per 50 ms at 20 per second
  assertEquals([bucket.take(), bucket.take()], [true, false]);
  now += 10_000;
  assertEquals(bucket.isFull, true, "never more than the burst");
});

Deno.test("TokenBucket.secondsUntilNextToken() rounds up to whole seconds", () => {
  let now = 0;
  const bucket = new TokenBucket({ rate: 0.5, burst: 1, now: () => now });
  bucket.take();
  assertEquals(bucket.secondsUntilNextToken(), 2);
  now += 1500;
  assertEquals(bucket.secondsUntilNextToken(), 1);
});

Deno.test("TokenBucket() refuses a rate that is not positive", () => {
  assertThrows(() => new TokenBucket({ rate: 0 }), RangeError);
});
