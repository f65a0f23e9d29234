import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { type RoomMember, Rooms } from "../lib/rooms.ts";

/** A member that records what it is handed. */
function member(listedName?: string) {
  const received: string[] = [];
  const self: RoomMember & { received: string[] } = {
    received,
    listedName,
    deliver: (text) => void received.push(text),
  };
  return self;
}

Deno.test("Rooms.add() and Rooms.remove() track membership", async (t) => {
  const rooms = new Rooms();
  const annInA = member("Ann");
  const annInB = member("Ann");
  const bob = member("Bob");

  await t.step("add() creates a room on first join", () => {
    rooms.add("a", annInA);
    rooms.add("a", bob);
    rooms.add("b", annInB);
    assertEquals([rooms.size, rooms.memberships], [2, 3]);
    assertEquals(rooms.has("a"), true);
  });

  await t.step("remove() drops a room once it is empty", () => {
    rooms.remove("b", annInB);
    assertEquals(rooms.has("b"), false);
    assertEquals([rooms.size, rooms.memberships], [1, 2]);
  });

  await t.step("remove() of an unknown member or room does nothing", () => {
    rooms.remove("b", annInB);
    rooms.remove("nowhere", bob);
    rooms.remove("a", annInB);
    assertEquals([rooms.size, rooms.memberships], [1, 2]);
  });
});

Deno.test("Rooms.broadcast() hands the same text to every member of one room", () => {
  const rooms = new Rooms();
  const ann = member("Ann");
  const bob = member("Bob");
  const carl = member("Carl");
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
  rooms.add("a", member("Will"));
  rooms.add("a", member("Ann"));
  rooms.add("a", member("Will"));
  rooms.add("a", member());
  assertEquals(rooms.memberNames("a"), ["Will", "Ann"]);
  assertEquals(rooms.memberNames("b"), []);
});
