import {
  deepStrictEqual as assertEquals,
  throws as assertThrows,
} from "node:assert/strict";
import { resolveClientIp, TrustedProxies } from "../lib/client_ip.ts";

Deno.test("TrustedProxies matches addresses and CIDR ranges", () => {
  const proxies = new TrustedProxies(["10.0.0.0/8", "127.0.0.1", "fd00::/8"]);
  const cases: [string, boolean][] = [
    ["10.1.2.3", true],
    ["11.0.0.1", false],
    ["127.0.0.1", true],
    ["127.0.0.2", false],
    ["::ffff:10.0.0.1", true],
    ["fd12::1", true],
    ["fe80::1", false],
    ["unknown", false],
  ];
  for (const [address, trusted] of cases) {
    assertEquals(proxies.has(address), trusted, address);
  }
  assertEquals(new TrustedProxies().has("127.0.0.1"), false);
});

Deno.test("TrustedProxies refuses what is not an address or a range", () => {
  for (const entry of ["", "proxy", "10.0.0.0/33", "10.0.0.0/8/1", "::1/x"]) {
    assertThrows(() => new TrustedProxies([entry]), RangeError, entry);
  }
});

Deno.test("resolveClientIp() believes X-Forwarded-For from trusted proxies only", async (t) => {
  const proxies = new TrustedProxies(["10.0.0.0/8"]);
  const cases: [string, string, string | null, string][] = [
    ["a direct client", "203.0.113.9", null, "203.0.113.9"],
    ["a direct client that forges", "203.0.113.9", "1.2.3.4", "203.0.113.9"],
    ["through the proxy", "10.0.0.2", "203.0.113.9", "203.0.113.9"],
    [
      "a forged hop left of it",
      "10.0.0.2",
      "1.2.3.4, 203.0.113.9",
      "203.0.113.9",
    ],
    ["two proxies", "10.0.0.2", "203.0.113.9, 10.0.0.3", "203.0.113.9"],
    ["only proxies", "10.0.0.2", "10.0.0.4, 10.0.0.3", "10.0.0.4"],
    ["garbage from the client", "10.0.0.2", "nonsense", "10.0.0.2"],
    ["IPv6", "10.0.0.2", "2001:db8::1", "2001:db8::1"],
    ["a proxy without the header", "10.0.0.2", null, "10.0.0.2"],
    [
      "IPv4 written as IPv6",
      "::ffff:10.0.0.2",
      "::ffff:203.0.113.9",
      "203.0.113.9",
    ],
  ];
  for (const [what, peer, forwardedFor, client] of cases) {
    await t.step(what, () => {
      assertEquals(resolveClientIp(peer, forwardedFor, proxies), client);
    });
  }
  await t.step("no proxy trusted: the peer, always", () => {
    assertEquals(
      resolveClientIp("10.0.0.2", "203.0.113.9", new TrustedProxies()),
      "10.0.0.2",
    );
  });
});
