import {
  deepStrictEqual as assertEquals,
  rejects as assertRejects,
  throws as assertThrows,
} from "node:assert/strict";
import { Chat } from "../lib/chat.ts";
import { ProtocolError } from "../lib/protocol_error.ts";
import { Session } from "../lib/session.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import type { ReadOptions } from "../lib/store/store.ts";

/** A memory store whose reads wait until the test lets them finish. */
class GatedStore extends MemoryStore {
  gate = Promise.withResolvers<void>();
  override async read(roomId: string, options?: ReadOptions) {
    const messages = await super.read(roomId, options);
    await this.gate.promise;
    return messages;
  }
}

/** A session over a peer that records what it is sent, parsed. */
function connect(chat: Chat) {
  const frames: Record<string, unknown>[] = [];
  const session = new Session(chat, {
    send: (text) => void frames.push(JSON.parse(text)),
    close: (code, reason) => void frames.push({ type: "close", code, reason }),
  });
  return { session, frames };
}

const summary = (frames: Record<string, unknown>[]) =>
  frames.map((frame) => `${frame.type}:${frame.message ?? frame.from}`);

Deno.test("Session.join() holds frames that arrive while history loads", async (t) => {
  await t.step("and sends each message once, after the join", async () => {
    const store = new GatedStore();
    const chat = new Chat({ store });
    const sender = connect(chat);
    store.gate.resolve();
    await sender.session.join({
      type: "join-room",
      room_id: "r",
      from: "Sender",
    });
    await chat.post(
      { room_id: "r", from: "Sender", message: "before" },
      "websocket",
    );

    store.gate = Promise.withResolvers();
    const joiner = connect(chat);
    const joined = joiner.session.join({
      type: "join-room",
      room_id: "r",
      from: "J",
    });
    // Stored after the history was read: the history lacks it, the hold has it.
    await chat.post(
      { room_id: "r", from: "Sender", message: "during" },
      "websocket",
    );
    store.gate.resolve();
    await joined;
    await chat.post(
      { room_id: "r", from: "Sender", message: "after" },
      "websocket",
    );

    assertEquals(summary(joiner.frames), [
      "receive-message:before",
      "join-room:J",
      "receive-message:during",
      "receive-message:after",
    ]);
  });

  await t.step("and drops the ones the history already holds", async () => {
    const store = new GatedStore();
    const chat = new Chat({ store });
    const joiner = connect(chat);
    const posted = store.append({ room_id: "r", from: "A", message: "both" });
    const joined = joiner.session.join({
      type: "join-room",
      room_id: "r",
      from: "J",
    });
    // The message is in the store before the history is read, but its
    // broadcast reaches the joiner too.
    const stored = await posted;
    chat.rooms.broadcast(
      "r",
      JSON.stringify({ type: "receive-message", ...stored, message: "both" }),
      stored.id,
    );
    store.gate.resolve();
    await joined;
    assertEquals(summary(joiner.frames), [
      "receive-message:both",
      "join-room:J",
    ]);
  });
});

Deno.test("Session.leave() while history loads ends the join quietly", async () => {
  const store = new GatedStore();
  const chat = new Chat({ store });
  const member = connect(chat);
  store.gate.resolve();
  await member.session.join({ type: "join-room", room_id: "r", from: "M" });

  store.gate = Promise.withResolvers();
  const leaver = connect(chat);
  const joined = leaver.session.join({
    type: "join-room",
    room_id: "r",
    from: "L",
  });
  leaver.session.leave({ type: "leave-room", room_id: "r" });
  store.gate.resolve();
  await joined;
  assertEquals(summary(leaver.frames), ["leave-room:L"]);
  assertEquals(
    summary(member.frames),
    ["join-room:M"],
    "never saw L join or leave",
  );
  assertEquals(chat.rooms.memberNames("r"), ["M"]);
});

Deno.test("Session.close() tells every joined room and frees them", async () => {
  const chat = new Chat({ store: new MemoryStore() });
  const stays = connect(chat);
  const goes = connect(chat);
  await stays.session.join({ type: "join-room", room_id: "a", from: "S" });
  await goes.session.join({ type: "join-room", room_id: "a", from: "G" });
  await goes.session.join({ type: "join-room", room_id: "b", from: "G" });
  goes.session.close();
  assertEquals(summary(stays.frames), [
    "join-room:S",
    "join-room:G",
    "leave-room:G",
  ]);
  assertEquals([chat.rooms.size, chat.rooms.memberships], [1, 1]);
  assertEquals(goes.session.roomIds, []);
});

Deno.test("Session refuses what the protocol forbids", async (t) => {
  const chat = new Chat({ store: new MemoryStore() });
  const { session } = connect(chat);

  await t.step("send-message to a room not joined, at once", async () => {
    assertThrows(
      () =>
        session.send({
          type: "send-message",
          room_id: "r",
          from: "W",
          message: "m",
        }),
      new ProtocolError('Cannot send to room "r": join it first', "not_joined"),
    );
    assertEquals(await chat.store.rooms({ limit: 10 }), { rooms: [] });
  });

  await t.step("join-room twice", async () => {
    await session.join({ type: "join-room", room_id: "r", from: "W" });
    await assertRejects(
      session.join({ type: "join-room", room_id: "r", from: "W" }),
      new ProtocolError('You already joined room "r" as "W"', "already_joined"),
    );
  });
});

Deno.test("Session.join() turns a failed history read into an error", async () => {
  class BrokenStore extends MemoryStore {
    override read(): never {
      throw new Error("disk on fire");
    }
  }
  const chat = new Chat({ store: new BrokenStore() });
  const { session } = connect(chat);
  await assertRejects(
    session.join({ type: "join-room", room_id: "r", from: "W" }),
    new ProtocolError(
      'Could not load the history of room "r"; try joining again',
      "history_unavailable",
    ),
  );
  assertEquals([chat.rooms.size, session.roomIds], [0, []]);
});
