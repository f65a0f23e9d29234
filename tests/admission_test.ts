import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Admission } from "../lib/admission.ts";

Deno.test("Admission.check() limits WebSockets in total", () => {
  const admission = new Admission({ maxConnections: 2 });
  const leave = admission.enterWebSocket();
  admission.enterWebSocket();
  assertEquals(admission.check(null), {
    status: 503,
    error: "server is full: 2 connections are open, try again later",
    reason: "server_full",
  });
  leave();
  leave(); // a second call changes nothing
  assertEquals(admission.webSockets, 1);
  assertEquals(admission.check(null), undefined);
});

Deno.test("Admission.admit() limits connections in total", () => {
  const admission = new Admission({
    maxOpenConnections: 2,
    maxConnectionsPerIp: 0,
  });
  const leave = admission.enter("1.1.1.1");
  admission.enter("2.2.2.2");
  assertEquals(admission.admit("3.3.3.3")?.reason, "server_full");
  leave();
  assertEquals(admission.connections, 1);
  assertEquals(admission.admit("3.3.3.3"), undefined);
});

Deno.test("Admission.admit() limits connections per IP, 256 by default", async (t) => {
  await t.step("at the limit, that address is refused, others are not", () => {
    const admission = new Admission({ ipConnectRate: 0 });
    const leaves = [];
    for (let i = 0; i < 256; i++) {
      assertEquals(admission.admit("10.0.0.1"), undefined);
      leaves.push(admission.enter("10.0.0.1"));
    }
    assertEquals(admission.admit("10.0.0.1"), {
      status: 503,
      error: "too many connections from 10.0.0.1: at most 256",
      reason: "ip_full",
    });
    assertEquals(admission.admit("10.0.0.2"), undefined);
    leaves[0]!();
    assertEquals(admission.admit("10.0.0.1"), undefined);
  });

  await t.step("0 means no limit", () => {
    const admission = new Admission({
      maxConnectionsPerIp: 0,
      ipConnectRate: 0,
    });
    for (let i = 0; i < 1000; i++) admission.enter("10.0.0.1");
    assertEquals(admission.admit("10.0.0.1"), undefined);
  });
});

Deno.test("Admission.admit() limits new connections per IP and second", async (t) => {
  let now = 0;
  const admission = new Admission({
    ipConnectRate: 5,
    maxConnectionsPerIp: 0,
    now: () => now,
  });

  await t.step("a burst of twice the rate passes, then it is refused", () => {
    for (let i = 0; i < 10; i++) {
      assertEquals(admission.admit("10.0.0.1"), undefined);
    }
    assertEquals(admission.admit("10.0.0.1"), {
      status: 503,
      error: "too many new connections from 10.0.0.1: try again in 1 s",
      reason: "ip_connect_rate",
    });
    assertEquals(admission.admit("10.0.0.2"), undefined, "another address");
  });

  await t.step("the rate comes back with time", () => {
    now += 1000;
    for (let i = 0; i < 5; i++) {
      assertEquals(admission.admit("10.0.0.1"), undefined);
    }
    assertEquals(admission.admit("10.0.0.1")?.reason, "ip_connect_rate");
  });

  await t.step("50 per second by default", () => {
    const byDefault = new Admission({ now: () => now });
    let admitted = 0;
    while (!byDefault.admit("10.0.0.3")) admitted++;
    assertEquals(admitted, 100);
  });

  await t.step("a refusal for the address's limit spends nothing", () => {
    const admission = new Admission({
      ipConnectRate: 1,
      maxConnectionsPerIp: 1,
      now: () => now,
    });
    const leave = admission.enter("10.0.0.4");
    for (let i = 0; i < 5; i++) {
      assertEquals(admission.admit("10.0.0.4")?.reason, "ip_full");
    }
    leave();
    assertEquals(admission.admit("10.0.0.4"), undefined);
    assertEquals(admission.admit("10.0.0.4"), undefined, "the burst of 2");
    assertEquals(admission.admit("10.0.0.4")?.reason, "ip_connect_rate");
  });
});

Deno.test("Admission.check() allows only the listed origins", () => {
  const admission = new Admission({ allowedOrigins: ["https://chat.example"] });
  assertEquals(admission.check("https://chat.example"), undefined);
  assertEquals(admission.check(null), undefined, "not a browser");
  assertEquals(admission.check("https://evil.example")?.status, 403);
  assertEquals(new Admission().check("https://evil.example"), undefined);
});

Deno.test("Admission.close() refuses every later upgrade", () => {
  const admission = new Admission();
  admission.close();
  assertEquals(admission.closing, true);
  assertEquals(admission.check(null)?.status, 503);
  assertEquals(admission.admit("ip"), undefined, "requests are answered");
});

Deno.test("Admission.admitAddress() limits a client behind a proxy by its address alone", () => {
  const admission = new Admission({
    maxOpenConnections: 1,
    maxConnectionsPerIp: 1,
    ipConnectRate: 0,
  });
  // The proxy's connection: counted in total, not by address.
  assertEquals(admission.admit(undefined), undefined);
  const leaveProxy = admission.enter(undefined);
  assertEquals(admission.admit(undefined)?.reason, "server_full");
  // Its client, at its WebSocket upgrade.
  assertEquals(admission.admitAddress("203.0.113.5"), undefined);
  const leaveClient = admission.enterAddress("203.0.113.5");
  assertEquals(admission.connections, 1, "not counted twice in total");
  assertEquals(admission.admitAddress("203.0.113.5")?.reason, "ip_full");
  assertEquals(admission.admitAddress("203.0.113.6"), undefined);
  leaveClient();
  leaveProxy();
  assertEquals(admission.connections, 0);
  assertEquals(admission.admitAddress("203.0.113.5"), undefined);
});
