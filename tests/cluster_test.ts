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
  },
});
