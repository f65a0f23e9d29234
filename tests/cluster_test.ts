/**
 * Several instances of the server on one Redis (issue 13's "What must
 * hold"), each a real process: a message is delivered exactly once and in
 * order on every instance, ids agree everywhere, joins and leaves and
 * member lists span the instances, only the rooms with members are
 * subscribed to, and the members of a killed instance leave once.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { createClient } from "@redis/client";
import { roomKeys } from "../lib/redis/room_keys.ts";
import { type Instance, startCluster, takeMessages } from "./_cluster.ts";
import { eventually, type Frame, type TestClient } from "./_helpers.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

const ignore = !redisTestsEnabled();

/** Senders per instance, and messages per sender, in the race. */
const SENDERS = 5;
const MESSAGES = 200;

/** Opens a client on `instance` and joins `roomId`. */
async function member(
  instance: Instance,
  roomId: string,
  name: string,
  since?: number,
): Promise<{ client: TestClient; history: Frame[] }> {
  const client = await instance.connect();
  client.send({
    type: "join-room",
    room_id: roomId,
    from: name,
    ...since === undefined ? {} : { since },
  });
  const history = [];
  for (;;) {
    const frame = await client.next();
    if (frame.type === "error") throw new Error(frame.error);
    if (frame.type === "join-room" && frame.from === name) break;
    if (frame.type === "receive-message") history.push(frame);
  }
  return { client, history };
}

/** Every message of a room, read from `instance` in pages of `limit`. */
async function readAll(
  instance: Instance,
  roomId: string,
  limit: number,
): Promise<Frame[]> {
  const messages: Frame[] = [];
  for (;;) {
    const { body } = await instance.post("/receive", {
      room_id: roomId,
      after: messages.at(-1)?.id ?? 0,
      limit,
    });
    messages.push(...body.messages);
    if (!body.has_more) return messages;
  }
}

/**
 * Sends `count` messages, each after the echo of the one before; resolves
 * with the id of the last.
 */
async function sendSlowly(
  sender: TestClient,
  roomId: string,
  count: number,
): Promise<number> {
  let last = 0;
  for (let i = 0; i < count; i++) {
    sender.send({
      type: "send-message",
      room_id: roomId,
      from: "sender",
      message: `${i}`,
    });
    last = (await takeMessages(sender, 1))[0]!.id;
  }
  return last;
}

/** What a member saw of a message: enough to compare sequences. */
function seen(frame: Frame): string {
  return `${frame.id} ${frame.from} ${frame.message}`;
}

function ids(frames: Frame[]): number[] {
  return frames.map((frame) => frame.id);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

Deno.test({
  name:
    "Instances on one Redis deliver every message once and in order, everywhere",
  ignore,
  async fn(t) {
    await using cluster = await startCluster({ instances: 3 });
    const { instances } = cluster;

    await t.step(
      `${instances.length} x ${SENDERS} senders x ${MESSAGES} messages into one room: every member holds the same sequence, no gap, no duplicate`,
      async () => {
        const members = [];
        for (const [i, instance] of instances.entries()) {
          members.push(
            (await member(instance, "race", `listener-${i}`)).client,
          );
          for (let s = 0; s < SENDERS; s++) {
            members.push(
              (await member(instance, "race", `sender-${i}-${s}`)).client,
            );
          }
        }
        // Every member sends, but the listeners, concurrently.
        const senders = members.filter((_, i) => i % (SENDERS + 1) !== 0);
        const total = senders.length * MESSAGES;
        for (let m = 0; m < MESSAGES; m++) {
          for (const [s, sender] of senders.entries()) {
            sender.send({
              type: "send-message",
              room_id: "race",
              from: `sender-${Math.floor(s / SENDERS)}-${s % SENDERS}`,
              message: `${s}:${m}`,
            });
          }
        }
        const sequences = await Promise.all(
          members.map((client) => takeMessages(client, total, 10_000)),
        );
        assertEquals(ids(sequences[0]!), range(1, total));
        const first = sequences[0]!.map(seen);
        for (const sequence of sequences.slice(1)) {
          assertEquals(sequence.map(seen), first);
        }
        // Each sender's own messages in the order it sent them.
        for (const [s] of senders.entries()) {
          const own = sequences[0]!.filter((frame) =>
            frame.message.startsWith(`${s}:`)
          );
          assertEquals(
            own.map((frame) => frame.message),
            range(0, MESSAGES - 1).map((m) => `${s}:${m}`),
          );
        }
        for (const client of members) await client.expectNoFrames();
        await Promise.all(members.map((client) => client.close()));
      },
    );

    const total = instances.length * SENDERS * MESSAGES;

    await t.step(
      "POST /receive pages and join-room with since give the same answer on every instance",
      async () => {
        const pages = await Promise.all(
          instances.map((instance) => readAll(instance, "race", 700)),
        );
        assertEquals(ids(pages[0]!), range(1, total));
        for (const page of pages.slice(1)) assertEquals(page, pages[0]);
        const newest = await Promise.all(
          instances.map(async (instance) =>
            (await instance.post("/receive", {
              room_id: "race",
              before: 100,
              limit: 5,
            })).body
          ),
        );
        assertEquals(ids(newest[0].messages), range(95, 99));
        for (const page of newest.slice(1)) assertEquals(page, newest[0]);
        const replays = await Promise.all(
          instances.map(async (instance, i) => {
            const { client, history } = await member(
              instance,
              "race",
              `late-${i}`,
              total - 10,
            );
            await client.close();
            return history;
          }),
        );
        assertEquals(ids(replays[0]!), range(total - 9, total));
        for (const replay of replays.slice(1)) {
          assertEquals(replay.map(seen), replays[0]!.map(seen));
        }
      },
    );

    await t.step(
      "a client that reconnects to another instance with since misses nothing and sees nothing twice",
      async () => {
        const [a, b, c] = instances as [Instance, Instance, Instance];
        const sender = (await member(c, "resume", "sender")).client;
        const sending = sendSlowly(sender, "resume", 300);
        const first = await member(a, "resume", "Ann");
        const before = await takeMessages(first.client, 50);
        await first.client.close();
        const since = before.at(-1)!.id;
        const second = await member(b, "resume", "Ann", since);
        const sent = await sending;
        const after = [
          ...second.history,
          ...await takeMessages(
            second.client,
            sent - since - second.history.length,
          ),
        ];
        assertEquals(ids(after), range(since + 1, sent));
        await second.client.expectNoFrames();
        await Promise.all([second.client.close(), sender.close()]);
      },
    );
  },
});
