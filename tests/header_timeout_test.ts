import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { HeaderTimeout } from "../lib/header_timeout.ts";

/** A HeaderTimeout on a clock the test moves, and what it closed. */
function watch(timeoutSeconds = 10) {
  let now = 0;
  const closed: string[] = [];
  const timeout = new HeaderTimeout<string>({
    timeoutSeconds,
    onTimeout: (connection) => closed.push(connection),
    now: () => now,
  });
  return {
    timeout,
    closed,
    advance(ms: number) {
      now += ms;
      timeout.check();
    },
    [Symbol.dispose]: () => timeout.stop(),
  };
}

Deno.test("HeaderTimeout.check() closes a connection that waited too long", () => {
  using clock = watch();
  clock.timeout.wait("silent");
  clock.advance(9_999);
  assertEquals(clock.closed, []);
  clock.advance(1);
  assertEquals(clock.closed, ["silent"]);
  clock.advance(20_000);
  assertEquals(clock.closed, ["silent"], "closed once");
  assertEquals(clock.timeout.waiting, 0);
});

Deno.test("HeaderTimeout.stopWaiting() spares a connection being answered", () => {
  using clock = watch();
  clock.timeout.wait("busy");
  clock.advance(5_000);
  clock.timeout.stopWaiting("busy");
  clock.advance(60_000);
  assertEquals(clock.closed, []);
});

Deno.test("HeaderTimeout.wait() restarts the clock after each answer", () => {
  using clock = watch();
  clock.timeout.wait("keep-alive");
  clock.timeout.wait("other");
  clock.advance(8_000);
  clock.timeout.stopWaiting("keep-alive"); // a request came
  clock.timeout.wait("keep-alive"); // and was answered
  clock.advance(8_000);
  assertEquals(clock.closed, ["other"]);
  clock.advance(2_000);
  assertEquals(clock.closed, ["other", "keep-alive"]);
});

Deno.test("HeaderTimeout refuses a timeout that is not positive", () => {
  let error;
  try {
    new HeaderTimeout({ timeoutSeconds: 0, onTimeout() {} }).stop();
  } catch (caught) {
    error = caught;
  }
  assertEquals(
    (error as Error).message,
    "timeoutSeconds must be positive, not 0",
  );
});
