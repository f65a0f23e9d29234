import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { KeepAlive } from "../lib/adapters/keep_alive.ts";

/** A socket that records what the keep-alive does to it. */
function fakeSocket(name: string, events: string[]) {
  return {
    ping: () => void events.push(`ping ${name}`),
    terminate: () => void events.push(`terminate ${name}`),
  };
}

Deno.test("KeepAlive pings a quiet socket, then times out a silent one", () => {
  let now = 0;
  const events: string[] = [];
  const keepAlive = new KeepAlive({
    timeoutSeconds: 10,
    now: () => now,
    onTimeout: () => void events.push("timeout silent"),
  });
  const silent = fakeSocket("silent", events);
  const talker = fakeSocket("talker", events);
  keepAlive.add(silent);
  keepAlive.add(talker);
  const at = (ms: number) => {
    now = ms;
    keepAlive.check();
    return events.splice(0);
  };
  try {
    assertEquals(at(4_000), []);
    assertEquals(at(5_000), ["ping silent", "ping talker"]);
    keepAlive.heard(talker);
    assertEquals(at(7_500), [], "one ping per quiet spell");
    assertEquals(at(10_000), ["timeout silent", "ping talker"]);
    assertEquals(at(12_500), ["terminate silent"]);
    keepAlive.delete(talker);
    assertEquals(at(60_000), []);
  } finally {
    keepAlive.stop();
  }
});

Deno.test("KeepAlive with a timeout of 0 watches nothing", () => {
  const events: string[] = [];
  const keepAlive = new KeepAlive({
    timeoutSeconds: 0,
    now: () => 1e9,
    onTimeout: () => void events.push("timeout"),
  });
  keepAlive.add(fakeSocket("a", events));
  keepAlive.check();
  assertEquals(events, []);
  keepAlive.stop();
});
