import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { type RoomMember, Rooms } from "../lib/rooms.ts";

/** A member that records what it is handed. */
function member(names: Record<string, string>) {
  const received: string[] = [];
  const self: RoomMember & { received: string[] } = {
    received,
    nameIn: (roomId) => names[roomId],
    deliver: (_roomId, text) => void received.push(text),
  };
  return self;
}

Deno.test("Rooms.add() and Rooms.remove() track membership", async (t) => {
  const rooms = new Rooms();
  const ann = member({ a: "Ann", b: "Ann" });
  const bob = member({ a: "Bob" });

  await t.step("add() creates a room on first join", () => {
    rooms.add("a", ann);
    rooms.add("a", bob);
    rooms.add("b", ann);
    assertEquals([rooms.size, rooms.memberships], [2, 3]);
    assertEquals(rooms.has("a"), true);
  });

  await t.step("remove() drops a room once it is empty", () => {
    rooms.remove("b", ann);
    assertEquals(rooms.has("b"), false);
    assertEquals([rooms.size, rooms.memberships], [1, 2]);
  });

  await t.step("remove() of an unknown member or room does nothing", () => {
    rooms.remove("b", ann);
    rooms.remove("nowhere", bob);
    assertEquals([rooms.size, rooms.memberships], [1, 2]);
  });
});

Deno.test("Rooms.broadcast() hands the same text to every member of one room", () => {
  const rooms = new Rooms();
  const ann = member({ a: "Ann" });
  const bob = member({ a: "Bob" });
  const carl = member({ b: "Carl" });
  rooms.add("a", ann);
  rooms.add("a", bob);
  rooms.add("b", carl);
  assertEquals(rooms.broadcast("a", "frame"), 2);
  assertEquals(rooms.broadcast("nowhere", "frame"), 0);
  assertEquals([ann.received, bob.received, carl.received], [["frame"], [
    "frame",
  ], []]);
});

Deno.test("Rooms.memberNames() lists each name once, in join order", () => {
  const rooms = new Rooms();
  rooms.add("a", member({ a: "Will" }));
  rooms.add("a", member({ a: "Ann" }));
  rooms.add("a", member({ a: "Will" }));
  rooms.add("a", member({}));
  assertEquals(rooms.memberNames("a"), ["Will", "Ann"]);
  assertEquals(rooms.memberNames("b"), []);
});
