import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Outbox } from "../lib/outbox.ts";
import type { RoomFanout } from "../lib/room_fanout.ts";
import { type RoomMember, Rooms } from "../lib/rooms.ts";

/**
 * A member that records what reaches it, one by one or through the
 * fan-out; it may go live once the room delivered `caughtUpAt`.
 */
function member(listedName?: string, caughtUpAt = 0) {
  const received: string[] = [];
  const outbox = new Outbox({
    send: (text) => received.push(text) > 0,
    bufferedAmount: () => 0,
    close: () => {},
  }, { onSlow() {} });
  const delivered: string[] = [];
  const self: RoomMember & { received: string[]; delivered: string[] } = {
    received,
    delivered,
    listedName,
    outbox,
    deliver(text) {
      delivered.push(text);
      outbox.send(text);
    },
    canGoLive: (deliveredId) => deliveredId >= caughtUpAt,
  };
  return self;
}

/** A fan-out that records its calls, then sends to each live member. */
function recordingFanout() {
  const calls: string[] = [];
  const fanout: RoomFanout & { calls: string[]; of(o: Outbox): string } = {
    calls,
    of: (outbox) => names.get(outbox) ?? "?",
    subscribe: (roomId, outbox) =>
      void calls.push(`subscribe ${roomId} ${fanout.of(outbox)}`),
    unsubscribe: (roomId, outbox) =>
      void calls.push(`unsubscribe ${roomId} ${fanout.of(outbox)}`),
    publish(roomId, text, live) {
      calls.push(`publish ${roomId} ${text} to ${live.size}`);
      for (const outbox of live) outbox.send(text);
    },
  };
  const names = new Map<Outbox, string>();
  return { fanout, name: (m: RoomMember, n: string) => names.set(m.outbox, n) };
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
  rooms.promote("a");
  rooms.add("a", member("Dora", 5));
  assertEquals(rooms.broadcast("a", "frame"), 3);
  assertEquals(rooms.broadcast("nowhere", "frame"), 0);
  assertEquals([ann.received, bob.received, carl.received], [["frame"], [
    "frame",
  ], []]);
});

Deno.test("Rooms moves a member to the fan-out once the room caught up with it", async (t) => {
  const { fanout, name } = recordingFanout();
  const rooms = new Rooms(fanout);
  const ann = member("Ann");
  const joiner = member("Joe", 3);
  name(ann, "Ann");
  name(joiner, "Joe");
  rooms.add("r", ann);
  rooms.promote("r");

  await t.step("a member with nothing to catch up goes live at once", () => {
    assertEquals(fanout.calls.splice(0), ["subscribe r Ann"]);
    assertEquals([rooms.memberships, rooms.catchingUp], [1, 0]);
  });

  await t.step(
    "a joiner sent message 3 takes frames one by one until the room delivered it",
    () => {
      rooms.add("r", joiner);
      rooms.promote("r");
      rooms.broadcast("r", "m2", 2);
      rooms.broadcast("r", "presence");
      assertEquals(joiner.delivered, ["m2", "presence"]);
      assertEquals(rooms.catchingUp, 1);
      rooms.broadcast("r", "m3", 3);
      assertEquals(joiner.delivered, ["m2", "presence", "m3"]);
      assertEquals(fanout.calls.splice(0), [
        "publish r m2 to 1",
        "publish r presence to 1",
        "publish r m3 to 1",
        "subscribe r Joe",
      ]);
      assertEquals(rooms.catchingUp, 0);
    },
  );

  await t.step("then the fan-out reaches it, and nothing else", () => {
    rooms.broadcast("r", "m4", 4);
    assertEquals(joiner.delivered, ["m2", "presence", "m3"]);
    assertEquals(joiner.received, ["m2", "presence", "m3", "m4"]);
    assertEquals(ann.received, ["m2", "presence", "m3", "m4"]);
    assertEquals(fanout.calls.splice(0), ["publish r m4 to 2"]);
  });

  await t.step("a live member that leaves is unsubscribed", () => {
    rooms.remove("r", joiner);
    rooms.remove("r", ann);
    assertEquals(fanout.calls.splice(0), [
      "unsubscribe r Joe",
      "unsubscribe r Ann",
    ]);
    assertEquals(rooms.has("r"), false);
  });

  await t.step(
    "one that leaves before it went live never was subscribed",
    () => {
      const late = member("Late", 99);
      name(late, "Late");
      rooms.add("r", late);
      rooms.broadcast("r", "m5", 5);
      rooms.remove("r", late);
      assertEquals(fanout.calls.splice(0), []);
      assertEquals(late.received, ["m5"]);
    },
  );
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
