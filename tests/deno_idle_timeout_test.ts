import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { holdIdleTimeout } from "../lib/adapters/_deno_idle_timeout.ts";

/** A WebSocket upgrade request, as a client sends it. */
function upgradeRequest(): Request {
  return new Request("http://127.0.0.1/", {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
}

Deno.test("holdIdleTimeout() finds Deno's idle timeout of an upgraded socket", async (t) => {
  await t.step("on this Deno, a socket with an idle timeout is held", () => {
    // Should a later Deno rename its internals, the server still pings but
    // each idle socket costs more memory: this test says so first.
    const { socket } = Deno.upgradeWebSocket(upgradeRequest(), {
      idleTimeout: 30,
    });
    const start = holdIdleTimeout(socket);
    assertEquals(typeof start, "function");
    // Not open (never answered): nothing starts, nothing throws.
    start?.();
  });

  await t.step("a socket without an idle timeout is left alone", () => {
    const { socket } = Deno.upgradeWebSocket(upgradeRequest(), {
      idleTimeout: 0,
    });
    assertEquals(holdIdleTimeout(socket), undefined);
  });
});
