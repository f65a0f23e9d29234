/**
 * Instances on one Redis when things fail: Redis killed mid-stream and
 * started again (append-only, fsync always), the subscriptions cut, an
 * instance given up for dead that comes back. Every acknowledged message
 * is kept, and every member still sees every stored message once, in
 * order; the joins and leaves that could not be told are told late.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { createClient } from "@redis/client";
import { ids, type Instance, readAll, startCluster } from "./_cluster.ts";
import { eventually, type Frame, type TestClient } from "./_helpers.ts";
import { redisTestsEnabled } from "./_redis_server.ts";

const ignore = !redisTestsEnabled();

/** Messages each sender gets acknowledged, whatever fails meanwhile. */
const PER_SENDER = 120;

/** Joins `roomId` on `instance` under `name`. */
async function member(
  instance: Instance,
  roomId: string,
  name: string,
): Promise<TestClient> {
  const client = await instance.connect();
  await client.join(roomId, name);
  return client;
}

/** What a member receives, frame by frame, until told to stop. */
interface Record {
  /** The `receive-message` frames, in the order they came. */
  messages: Frame[];
  /** The joins and leaves. */
  presence: Frame[];
  /** The error frames. */
  errors: Frame[];
}

function newRecord(): Record {
  return { messages: [], presence: [], errors: [] };
}

/** Files a frame into a record. */
function file(record: Record, frame: Frame): Frame {
  if (frame.type === "receive-message") record.messages.push(frame);
  else if (frame.type === "error") record.errors.push(frame);
  else record.presence.push(frame);
  return frame;
}

/**
 * Sends `count` messages one after another, each until it is acknowledged
 * (its echo came back) rather than refused (an error frame: try again);
 * files everything it receives. Resolves with the acknowledged messages.
 */
async function sendUntilAcknowledged(
  client: TestClient,
  roomId: string,
  name: string,
  count: number,
  record: Record,
): Promise<Frame[]> {
  const acknowledged = [];
  for (let i = 0; i < count;) {
    const text = `${name} ${i}`;
    client.send({
      type: "send-message",
      room_id: roomId,
      from: name,
      message: text,
    });
    for (;;) {
      const frame = file(record, await client.next(10_000));
      if (frame.type === "error") {
        await new Promise((resolve) => setTimeout(resolve, 50));
        break;
      }
      if (frame.type === "receive-message" && frame.message === text) {
        acknowledged.push(frame);
        i++;
        break;
      }
    }
  }
  return acknowledged;
}

/**
 * POSTs messages one after another, each until it is answered 200, until
 * `enough()` holds; returns the acknowledged ones.
 */
async function postUntilAcknowledged(
  instance: Instance,
  roomId: string,
  enough: (acknowledged: Frame[]) => boolean,
  refusals: { status: number; body: unknown }[],
): Promise<Frame[]> {
  const acknowledged: Frame[] = [];
  while (!enough(acknowledged)) {
    const reply = await instance.post("/send", {
      room_id: roomId,
      from: "rest",
      message: `rest ${acknowledged.length}`,
    });
    if (reply.status === 200) acknowledged.push(reply.body);
    else {
      refusals.push(reply);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return acknowledged;
}

/** Files what a member receives until it has seen the message `lastId`. */
async function receiveUpTo(
  client: TestClient,
  record: Record,
  lastId: number,
): Promise<void> {
  while (record.messages.at(-1)?.id !== lastId) {
    file(record, await client.next(5000));
  }
}

function count(text: string, word: string): number {
  return text.split(word).length - 1;
}

Deno.test({
  name:
    "Instances on one Redis ride out Redis failing, and tell joins and leaves late rather than never",
  ignore,
  async fn(t) {
    await using cluster = await startCluster({
      instances: 2,
      redis: { durable: true },
    });
    const [a, b] = cluster.instances as [Instance, Instance];
    const ann = await member(a, "lobby", "Ann");
    const bob = await member(b, "lobby", "Bob");
    assertEquals(await ann.next(), {
      type: "join-room",
      room_id: "lobby",
      from: "Bob",
    });

    await t.step(
      "Redis killed mid-stream and started again: errors and 503s while it is down, nothing acknowledged lost, every member every message once, in order",
      async () => {
        const records = [newRecord(), newRecord(), newRecord(), newRecord()];
        const listeners = [
          await member(a, "live", "listener-a"),
          await member(b, "live", "listener-b"),
        ];
        const senders = [
          await member(a, "live", "sender-a"),
          await member(b, "live", "sender-b"),
        ];
        const refusals: { status: number; body: unknown }[] = [];
        const sending = Promise.all([
          ...senders.map((client, i) =>
            sendUntilAcknowledged(
              client,
              "live",
              i === 0 ? "sender-a" : "sender-b",
              PER_SENDER,
              records[2 + i]!,
            )
          ),
          postUntilAcknowledged(
            b,
            "live",
            (acknowledged) => acknowledged.length >= PER_SENDER / 2,
            refusals,
          ),
        ]);
        await eventually(
          () => records[2]!.messages.length > 30,
          "30 messages before the crash",
        );
        await cluster.redis.kill();
        await eventually(
          async () =>
            (await Promise.all(
              [a, b].map(async (instance) =>
                (await instance.get("/readyz")).status
              ),
            )).every((status) => status === 503),
          "/readyz to answer 503 on both instances",
          5000,
        );
        // Bob leaves while Redis is down: Ann hears it once Redis is back.
        bob.send({ type: "leave-room", room_id: "lobby" });
        assertEquals((await bob.next()).type, "leave-room");
        // A sender whose last message was stored just before the crash
        // waits for its echo until Redis is back; the other gets errors.
        await eventually(
          () => records.slice(2).some((record) => record.errors.length > 0),
          "a sender to get error frames",
        );
        await eventually(() => refusals.length > 0, "a 503 to POST /send");
        // Down a while longer: the clients back off before they reconnect.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await cluster.redis.restart();

        const acknowledged = (await sending).flat();
        const history = await readAll(a, "live");
        assertEquals(await readAll(b, "live"), history);
        assertEquals(ids(history), history.map((_, i) => i + 1));
        const stored = new Set(
          history.map((message) => JSON.stringify(message)),
        );
        for (const message of acknowledged) {
          const { type: _, ...fields } = message;
          assert(
            stored.has(JSON.stringify(fields)),
            `lost: ${JSON.stringify(fields)}`,
          );
        }
        const lastId = history.at(-1)!.id;
        const clients = [...listeners, ...senders];
        for (const [i, client] of clients.entries()) {
          await receiveUpTo(client, records[i]!, lastId);
          assertEquals(
            records[i]!.messages.map(({ type: _, ...message }) => message),
            history,
          );
          // Sockets stayed open through it all.
          assertEquals(client.socket.readyState, WebSocket.OPEN);
          await client.close();
        }
        for (const { status, body } of refusals) {
          assertEquals(status, 503);
          assert(
            /^Redis at .* is unavailable/.test(
              (body as { error: string }).error,
            ),
            JSON.stringify(body),
          );
        }
        const errors = records.slice(2).flatMap((record) => record.errors);
        assert(errors.length > 0);
        for (const { error } of errors) {
          assert(/^Redis at .* is unavailable/.test(error), error);
        }
        for (const instance of [a, b]) {
          assertEquals(count(instance.child.errors(), "redis.down"), 1);
          assertEquals((await instance.get("/readyz")).status, 200);
        }
        assertEquals(await ann.next(5000), {
          type: "leave-room",
          room_id: "lobby",
          from: "Bob",
        });
        for (const instance of [a, b]) {
          assertEquals((await instance.get("/rooms/lobby")).body.members, [
            "Ann",
          ]);
        }
        await bob.close();
      },
    );

    let carol: TestClient;

    await t.step(
      "the subscriptions cut for a while: the messages missed are read back from the streams, and a join that was missed is told once",
      async () => {
        carol = await member(b, "lobby", "Carol");
        assertEquals(await ann.next(), {
          type: "join-room",
          room_id: "lobby",
          from: "Carol",
        });
        const records = [newRecord(), newRecord()];
        const refusals: { status: number; body: unknown }[] = [];
        const post = (count: number) =>
          postUntilAcknowledged(
            b,
            "lobby",
            (acknowledged) => acknowledged.length >= count,
            refusals,
          );
        await post(10);
        const redis = createClient({ url: cluster.redis.url });
        redis.on("error", () => {});
        await redis.connect();
        let dave;
        try {
          // Cut the subscriptions, and keep them from reconnecting for a
          // while: Redis takes no more clients than it has left.
          const info = await redis.info("clients");
          const clients = Number(/connected_clients:(\d+)/.exec(info)![1]);
          await redis.configSet("maxclients", String(clients - 2));
          await redis.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
          await post(10);
          dave = await member(b, "lobby", "Dave");
          await redis.configSet("maxclients", "10000");
        } finally {
          await redis.close();
        }
        await post(10);
        const history = await readAll(a, "lobby");
        assertEquals(history.length, 30);
        for (const [i, client] of [ann, carol].entries()) {
          await receiveUpTo(client, records[i]!, history.at(-1)!.id);
          assertEquals(
            records[i]!.messages.map(({ type: _, ...message }) => message),
            history,
          );
        }
        // Told live or after the subscription was back, but once.
        await eventually(
          async () => {
            for (const frame of await ann.framesBeforeProbe()) {
              file(records[0]!, frame);
            }
            return records[0]!.presence.length > 0;
          },
          "Dave's join",
          5000,
        );
        await new Promise((resolve) => setTimeout(resolve, 2500));
        for (const frame of await ann.framesBeforeProbe()) {
          file(records[0]!, frame);
        }
        assertEquals(records[0]!.presence, [
          { type: "join-room", room_id: "lobby", from: "Dave" },
        ]);
        await dave.close();
        for (const client of [ann, carol]) {
          assertEquals(await client.next(), {
            type: "leave-room",
            room_id: "lobby",
            from: "Dave",
          });
        }
        assertEquals(refusals, []);
        // What pub/sub lost while the subscriptions were down was read back.
        for (const instance of [a, b]) {
          const metrics = await instance.metrics();
          assert((metrics.get("chat_redis_gap_repairs_total") ?? 0) > 0);
        }
      },
    );

    await t.step(
      "an instance given up for dead (stopped longer than its heartbeat lasts) announces its members again when it comes back",
      async () => {
        const pid = b.child.pid;
        Deno.kill(pid, "SIGSTOP");
        try {
          assertEquals(await ann.next(12_000), {
            type: "leave-room",
            room_id: "lobby",
            from: "Carol",
          });
          assertEquals((await a.get("/rooms/lobby")).body.members, ["Ann"]);
        } finally {
          Deno.kill(pid, "SIGCONT");
        }
        assertEquals(await ann.next(5000), {
          type: "join-room",
          room_id: "lobby",
          from: "Carol",
        });
        for (const instance of [a, b]) {
          assertEquals((await instance.get("/rooms/lobby")).body.members, [
            "Ann",
            "Carol",
          ]);
        }
        // Carol, on b, heard nothing of it: her instance never left.
        await carol.expectNoFrames();
        await Promise.all([ann.close(), carol.close()]);
      },
    );
  },
});
