import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { refuseHandshake } from "../lib/http/websocket_handshake.ts";

const VALID = {
  upgrade: "websocket",
  connection: "keep-alive, Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

Deno.test("refuseHandshake() accepts a valid opening handshake", () => {
  assertEquals(
    refuseHandshake(new Request("http://x/", { headers: VALID })),
    undefined,
  );
});

Deno.test("refuseHandshake() says what is wrong with a handshake", async (t) => {
  const cases: [string, RequestInit, number, string][] = [
    ["POST", { method: "POST", headers: VALID }, 400, "use GET, not POST"],
    [
      "no Connection: Upgrade",
      { headers: { ...VALID, connection: "keep-alive" } },
      400,
      'the Connection header must contain "Upgrade"',
    ],
    [
      "no key",
      { headers: { ...VALID, "sec-websocket-key": "" } },
      400,
      "the Sec-WebSocket-Key header is missing",
    ],
    [
      "another version",
      { headers: { ...VALID, "sec-websocket-version": "8" } },
      426,
      "the Sec-WebSocket-Version header must be 13",
    ],
  ];
  for (const [what, init, status, error] of cases) {
    await t.step(what, async () => {
      const response = refuseHandshake(new Request("http://x/", init))!;
      assertEquals(response.status, status);
      assertEquals(await response.json(), {
        error: `Invalid WebSocket upgrade: ${error}`,
      });
    });
  }
});
