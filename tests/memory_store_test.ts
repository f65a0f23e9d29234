import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { MemoryStore } from "../lib/store/memory.ts";

Deno.test("MemoryStore.append() stamps id and sent_at", async () => {
  let clock = 1730758663.598467;
  const store = new MemoryStore({ now: () => clock++ });
  const first = await store.append({ room_id: "r", from: "W", message: "a" });
  const second = await store.append({ room_id: "s", from: "W", message: "b" });
  assertEquals(first, {
    room_id: "r",
    from: "W",
    message: "a",
    sent_at: 1730758663.598467,
    id: 1,
  });
  assertEquals([second.id, second.sent_at], [2, 1730758664.598467]);
});

Deno.test("MemoryStore.read() returns the newest messages, oldest first", async (t) => {
  const store = new MemoryStore();
  for (const message of ["1", "2", "3", "4"]) {
    await store.append({ room_id: "r", from: "W", message });
  }
  await store.append({ room_id: "other", from: "W", message: "x" });
  const texts = async (limit?: number) =>
    (await store.read("r", limit === undefined ? {} : { limit })).map((m) =>
      m.message
    );

  await t.step("all of them by default", async () => {
    assertEquals(await texts(), ["1", "2", "3", "4"]);
  });
  await t.step("the newest `limit`", async () => {
    assertEquals(await texts(2), ["3", "4"]);
    assertEquals(await texts(0), []);
    assertEquals(await texts(10), ["1", "2", "3", "4"]);
  });
  await t.step("none for an unknown room", async () => {
    assertEquals(await store.read("nowhere"), []);
  });
  await t.step("a copy the caller cannot corrupt", async () => {
    (await store.read("r")).pop();
    assertEquals(await texts(), ["1", "2", "3", "4"]);
  });
});

Deno.test("MemoryStore.rooms() lists rooms in order of first message", async () => {
  const store = new MemoryStore();
  for (const room_id of ["b", "a", "b", "c"]) {
    await store.append({ room_id, from: "W", message: "m" });
  }
  assertEquals(await store.rooms(), ["b", "a", "c"]);
});

Deno.test("MemoryStore.stats() counts a room's messages", async () => {
  const store = new MemoryStore({ now: () => 5.5 });
  assertEquals(await store.stats("r"), {
    message_count: 0,
    last_message_at: null,
  });
  await store.append({ room_id: "r", from: "W", message: "m" });
  await store.append({ room_id: "r", from: "W", message: "m" });
  assertEquals(await store.stats("r"), {
    message_count: 2,
    last_message_at: 5.5,
  });
});
