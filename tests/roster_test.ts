import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Roster } from "../lib/redis/roster.ts";

const ann = { instance: "a", connection: "1", from: "Ann" };
const bob = { instance: "b", connection: "1", from: "Bob" };
const carol = { instance: "b", connection: "2", from: "Carol" };

function event(type: "join-room" | "leave-room", member: typeof ann) {
  return { type, room_id: "r", ...member };
}

Deno.test("Roster.take() tells each join and leave once", async (t) => {
  await t.step("before it is complete: every join once, every leave", () => {
    const roster = new Roster();
    assertEquals(roster.take(event("join-room", ann)), true);
    assertEquals(roster.take(event("join-room", ann)), false);
    assertEquals(roster.take(event("leave-room", ann)), true);
    // Bob may have joined before the roster was filled.
    assertEquals(roster.take(event("leave-room", bob)), true);
  });

  await t.step("once complete: a leave only of a member on it", () => {
    const roster = new Roster();
    roster.sync("r", [ann]);
    assertEquals(roster.take(event("join-room", ann)), false);
    assertEquals(roster.take(event("leave-room", bob)), false);
    assertEquals(roster.take(event("leave-room", ann)), true);
    assertEquals(roster.take(event("leave-room", ann)), false);
  });
});

Deno.test("Roster.sync() gives what was missed, once it was complete", () => {
  const roster = new Roster();
  assertEquals(roster.sync("r", [ann, bob]), []);
  assertEquals(roster.complete, true);
  assertEquals(roster.sync("r", [bob, carol]), [
    { type: "leave-room", room_id: "r", from: "Ann" },
    { type: "join-room", room_id: "r", from: "Carol" },
  ]);
  assertEquals(roster.sync("r", [bob, carol]), []);
  assertEquals(roster.take(event("join-room", carol)), false);
});
