import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Chat } from "../lib/chat.ts";
import { Connection, type ConnectionOptions } from "../lib/connection.ts";
import type { StoredMessage } from "../lib/contract.ts";
import { receiveMessageFrame } from "../lib/frames.ts";
import { Logger } from "../lib/logger.ts";
import {
  type BusMember,
  LocalRoomBus,
  type PresenceEvent,
} from "../lib/room_bus.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import type { MessageDraft, ReadOptions } from "../lib/store/store.ts";

/** A memory store whose reads wait until the test lets them finish. */
class GatedStore extends MemoryStore {
  gate = Promise.withResolvers<void>();
  override async read(roomId: string, options?: ReadOptions) {
    const messages = await super.read(roomId, options);
    await this.gate.promise;
    return messages;
  }
}

/**
 * A networked store, as it looks from the server: a message can be read as
 * soon as it is committed, a while before `append()` resolves.
 */
class LaggingStore extends MemoryStore {
  acks: PromiseWithResolvers<void>[] = [];
  override async append(draft: MessageDraft): Promise<StoredMessage> {
    const stored = await super.append(draft);
    const ack = Promise.withResolvers<void>();
    this.acks.push(ack);
    await ack.promise;
    return stored;
  }
}

/** A connection over a peer that records what it is sent, parsed. */
function connect(chat: Chat, options: ConnectionOptions = {}) {
  const frames: Record<string, unknown>[] = [];
  const connection = new Connection(chat, {
    send: (text) => frames.push(JSON.parse(text)) > 0,
    bufferedAmount: () => 0,
    close: (code, reason) => void frames.push({ type: "close", code, reason }),
  }, { logger: quiet, ...options });
  const receive = (frame: object | string) =>
    connection.receive(
      typeof frame === "string" ? frame : JSON.stringify(frame),
    );
  const join = (room_id: string, from: string, since?: number) =>
    receive({ type: "join-room", room_id, from, since });
  const send = (room_id: string, message: string) =>
    receive({ type: "send-message", room_id, from: "W", message });
  return { connection, frames, receive, join, send };
}

const quiet = new Logger({ level: "silent" });

const summary = (frames: Record<string, unknown>[]) =>
  frames.map((frame) =>
    `${frame.type}:${frame.message ?? frame.from ?? frame.error ?? ""}`
  );

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("Connection join-room holds frames that arrive while history loads", async (t) => {
  await t.step("and sends each message once, after the join", async () => {
    const store = new GatedStore();
    const chat = new Chat({ store });
    const sender = connect(chat);
    store.gate.resolve();
    await sender.join("r", "Sender");
    await chat.post({ room_id: "r", from: "S", message: "before" }, "rest");

    store.gate = Promise.withResolvers();
    const joiner = connect(chat);
    const joined = joiner.join("r", "J");
    await turn();
    // Stored after the history was read: the history lacks it, the hold has it.
    await chat.post({ room_id: "r", from: "S", message: "during" }, "rest");
    store.gate.resolve();
    await joined;
    await chat.post({ room_id: "r", from: "S", message: "after" }, "rest");

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
    const stored = await store.append({
      room_id: "r",
      from: "S",
      message: "both",
    });
    const joiner = connect(chat);
    const joined = joiner.join("r", "J");
    await turn();
    // In the history, and broadcast while the joiner is held.
    chat.rooms.broadcast("r", receiveMessageFrame(stored), stored.id);
    store.gate.resolve();
    await joined;
    assertEquals(summary(joiner.frames), [
      "receive-message:both",
      "join-room:J",
    ]);
  });
});

Deno.test("Connection sends a message once when the store makes it readable before it is acknowledged", async () => {
  const store = new LaggingStore();
  const chat = new Chat({ store });
  const posted = chat.post({ room_id: "r", from: "S", message: "m" }, "rest");
  await turn();
  // Committed and readable, not yet acknowledged: the joiner's history has
  // it, and its broadcast comes after the joiner is live.
  const joiner = connect(chat);
  await joiner.join("r", "J");
  store.acks[0]!.resolve();
  await posted;
  assertEquals(summary(joiner.frames), ["receive-message:m", "join-room:J"]);
});

Deno.test("Connection join-room with since says when the replay is cut", async () => {
  const store = new MemoryStore();
  const chat = new Chat({ store, pageMax: 3 });
  for (let i = 1; i <= 6; i++) {
    await store.append({ room_id: "r", from: "S", message: `m${i}` });
  }
  const joiner = connect(chat);
  await joiner.join("r", "J", 1);
  assertEquals(joiner.frames[0], {
    type: "history-gap",
    room_id: "r",
    after: 1,
    before: 4,
  });
  assertEquals(summary(joiner.frames.slice(1)), [
    "receive-message:m4",
    "receive-message:m5",
    "receive-message:m6",
    "join-room:J",
  ]);

  const caughtUp = connect(chat);
  await caughtUp.join("r", "K", 3);
  assertEquals(caughtUp.frames.map((frame) => frame.type), [
    "receive-message",
    "receive-message",
    "receive-message",
    "join-room",
  ]);
});

Deno.test("Connection leave-room while history loads ends the join quietly", async () => {
  const store = new GatedStore();
  const chat = new Chat({ store });
  const member = connect(chat);
  store.gate.resolve();
  await member.join("r", "M");

  store.gate = Promise.withResolvers();
  const leaver = connect(chat);
  const joined = leaver.join("r", "L");
  await turn();
  leaver.connection.close({ code: 1000, reason: "" });
  store.gate.resolve();
  await joined;
  assertEquals(summary(leaver.frames), []);
  assertEquals(summary(member.frames), ["join-room:M"], "never saw L");
  assertEquals(chat.rooms.memberNames("r"), ["M"]);
  assertEquals(chat.rooms.memberships, 1);
});

Deno.test("Connection.close() tells every joined room and frees them", async () => {
  const chat = new Chat({ store: new MemoryStore() });
  const stays = connect(chat);
  const goes = connect(chat);
  await stays.join("a", "S");
  await goes.join("a", "G");
  await goes.join("b", "G");
  goes.connection.close();
  assertEquals(summary(stays.frames), [
    "join-room:S",
    "join-room:G",
    "leave-room:G",
  ]);
  assertEquals([chat.rooms.size, chat.rooms.memberships], [1, 1]);
  assertEquals(goes.connection.roomIds, []);
});

Deno.test("Connection.close() leaves no ghost: frames queued behind a send are dropped", async () => {
  const store = new LaggingStore();
  const chat = new Chat({ store });
  const ghost = connect(chat);
  const joined = ghost.join("a", "G");
  await joined;
  // One TCP write: a send that waits for the store, a join, then the close.
  const all = [ghost.send("a", "m"), ghost.join("b", "G")];
  await turn();
  ghost.connection.close({ code: 1000, reason: "" });
  store.acks[0]!.resolve();
  await Promise.all(all);
  await ghost.join("c", "G");
  assertEquals([chat.rooms.size, chat.rooms.memberships], [0, 0]);
  assertEquals(chat.rooms.has("b"), false);
  assertEquals(ghost.connection.isOpen, false);
});

Deno.test("Connection refuses what the protocol forbids", async (t) => {
  const chat = new Chat({ store: new MemoryStore() });
  const client = connect(chat, { maxRooms: 2 });

  await t.step("send-message to a room not joined", async () => {
    await client.send("r", "m");
    assertEquals(summary(client.frames.splice(0)), [
      'error:Cannot send to room "r": join it first',
    ]);
    assertEquals(await chat.store.rooms({ limit: 10 }), { rooms: [] });
  });

  await t.step("join-room twice", async () => {
    await client.join("r", "W");
    await client.join("r", "W");
    assertEquals(summary(client.frames.splice(0)), [
      "join-room:W",
      'error:You already joined room "r" as "W"',
    ]);
  });

  await t.step("a room too many", async () => {
    await client.join("s", "W");
    await client.join("t", "W");
    assertEquals(summary(client.frames.splice(0)), [
      "join-room:W",
      "error:You can be in at most 2 rooms at once; leave one first",
    ]);
  });
});

Deno.test("Connection turns a failed history read into an error frame", async () => {
  class BrokenStore extends MemoryStore {
    override read(): never {
      throw new Error("disk on fire");
    }
  }
  const chat = new Chat({ store: new BrokenStore() });
  const client = connect(chat);
  await client.join("r", "W");
  assertEquals(summary(client.frames), [
    'error:Could not load the history of room "r"; try joining again',
  ]);
  assertEquals([chat.rooms.size, client.connection.roomIds], [0, []]);
});

Deno.test("Connection spends its budget on every frame, join and leave too", async () => {
  const chat = new Chat({ store: new MemoryStore() });
  const watcher = connect(chat);
  await watcher.join("r", "Watcher");
  const looper = connect(chat, { rateLimit: 5 });
  for (let i = 0; i < 20; i++) {
    await looper.join("r", "Spam");
    await looper.receive({ type: "leave-room", room_id: "r" });
  }
  const refused = looper.frames.filter((frame) =>
    String(frame.error).startsWith("rate limited: send at most 5 frames")
  );
  assertEquals(refused.length, 30, "a burst of 10 frames, then refusals");
  // The room heard 5 joins and 5 leaves, not 20 of each.
  assertEquals(watcher.frames.length, 1 + 10);
});

/** A bus that records what the connection asks of it. */
class RecordingBus extends LocalRoomBus {
  calls: string[] = [];
  failFollow = false;
  constructor(chat: () => Chat) {
    super((roomId) => chat().rooms.memberNames(roomId));
  }
  override follow(roomId: string): Promise<void> {
    this.calls.push(`follow ${roomId}`);
    return this.failFollow
      ? Promise.reject(new Error("Redis is down"))
      : super.follow(roomId);
  }
  override unfollow(roomId: string): void {
    this.calls.push(`unfollow ${roomId}`);
  }
  override announce(event: PresenceEvent, member: BusMember): void {
    this.calls.push(`${event.type} ${event.room_id} ${member.from}`);
    super.announce(event, member);
  }
}

Deno.test("Connection follows a room before its history, and unfollows it once", async (t) => {
  class WatchedStore extends MemoryStore {
    override read(roomId: string, options?: ReadOptions) {
      bus.calls.push(`read ${roomId}`);
      return super.read(roomId, options);
    }
  }
  const bus: RecordingBus = new RecordingBus((): Chat => chat);
  const chat = new Chat({ store: new WatchedStore(), bus });

  await t.step("join, leave, close", async () => {
    const client = connect(chat);
    await client.join("a", "W");
    await client.join("b", "W");
    await client.receive({ type: "leave-room", room_id: "a" });
    client.connection.close();
    assertEquals(bus.calls.splice(0), [
      "follow a",
      "read a",
      "join-room a W",
      "follow b",
      "read b",
      "join-room b W",
      "unfollow a",
      "leave-room a W",
      "unfollow b",
      "leave-room b W",
    ]);
  });

  await t.step("a follow that fails is an error frame", async () => {
    bus.failFollow = true;
    const client = connect(chat);
    await client.join("c", "W");
    assertEquals(bus.calls.splice(0), ["follow c", "unfollow c"]);
    assertEquals(summary(client.frames), [
      'error:Could not load the history of room "c"; try joining again',
    ]);
    assertEquals(chat.rooms.has("c"), false);
  });
});
