import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Admission } from "../lib/admission.ts";

Deno.test("Admission.check() limits connections in total", () => {
  const admission = new Admission({ maxConnections: 2 });
  const leave = admission.enter("1.1.1.1");
  admission.enter("2.2.2.2");
  assertEquals(admission.check(null, "3.3.3.3")?.status, 503);
  leave();
  leave(); // a second call changes nothing
  assertEquals(admission.open, 1);
  assertEquals(admission.check(null, "3.3.3.3"), undefined);
});

Deno.test("Admission.check() limits connections per IP when asked", () => {
  const unlimited = new Admission();
  for (let i = 0; i < 50; i++) unlimited.enter("10.0.0.1");
  assertEquals(unlimited.check(null, "10.0.0.1"), undefined);

  const limited = new Admission({ maxConnectionsPerIp: 2 });
  limited.enter("10.0.0.1");
  limited.enter("10.0.0.1");
  assertEquals(limited.check(null, "10.0.0.1"), {
    status: 503,
    error: "too many connections from 10.0.0.1: at most 2",
    reason: "ip_full",
  });
  assertEquals(limited.check(null, "10.0.0.2"), undefined);
});

Deno.test("Admission.check() allows only the listed origins", () => {
  const admission = new Admission({ allowedOrigins: ["https://chat.example"] });
  assertEquals(admission.check("https://chat.example", "ip"), undefined);
  assertEquals(admission.check(null, "ip"), undefined, "not a browser");
  assertEquals(admission.check("https://evil.example", "ip")?.status, 403);
  assertEquals(new Admission().check("https://evil.example", "ip"), undefined);
});

Deno.test("Admission.close() refuses every later upgrade", () => {
  const admission = new Admission();
  admission.close();
  assertEquals(admission.closing, true);
  assertEquals(admission.check(null, "ip")?.status, 503);
});
