import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import type { Frame, TestClient } from "./_helpers.ts";
import {
  FrameReader,
  maskedTextFrame,
  rawWebSocket,
  writeAll,
} from "./_raw_socket.ts";
import { NO_RATE_LIMITS, TARGETS } from "./_targets.ts";

/** Large messages in the room before the burst: 500 of 16 KB, 8 MB. */
const FILL = 500;
const FILL_TEXT = "😀".repeat(4000);
/** Messages the sender sends, in steps that it does not wait for. */
const BURST = 600;
const STEP = 50;
/** A new client joins every this many messages of the burst. */
const JOIN_EVERY = 100;
/** How long a joiner reads nothing after its join, while the burst goes on. */
const PAUSE_MS = 300;

/** The text of message `i` of the burst. */
function messageText(i: number): string {
  return `m${i}`;
}

function sendMessages(
  sender: TestClient,
  from: number,
  count: number,
  text = messageText,
) {
  for (let i = from; i < from + count; i++) {
    sender.send({
      type: "send-message",
      room_id: "burst",
      from: "Sender",
      message: text(i),
    });
  }
}

/** A joiner on a bare socket, which reads only when the test says so. */
interface Joiner {
  name: string;
  conn: Deno.TcpConn;
  frames: FrameReader;
}

/** Frames up to and with the `receive-message` of message `m<last>`. */
async function framesUntil(
  next: () => Promise<Frame | null>,
  last: number,
): Promise<Frame[]> {
  const frames = [];
  for (;;) {
    const frame = await next();
    if (!frame) throw new Error(`closed before m${last}`);
    frames.push(frame);
    if (frame.type === "error") throw new Error(frame.error);
    if (
      frame.type === "receive-message" && frame.message === messageText(last)
    ) return frames;
  }
}

/**
 * Asserts that a client got its history, its own `join-room`, then every
 * message after the history, each once and in order: ids one apart from
 * the first message it got to `m<last>`.
 */
function assertExactlyOnce(frames: Frame[], name: string, last: number) {
  const joinedAt = frames.findIndex((frame) =>
    frame.type === "join-room" && frame.from === name
  );
  assert(joinedAt >= 0, `${name} never saw its own join-room`);
  const ids = frames
    .filter((frame) => frame.type === "receive-message")
    .map((frame) => frame.id as number);
  assertEquals(ids.length > FILL, true, `${name}: the whole room`);
  const gaps = ids.slice(1).flatMap((id, i) =>
    id === ids[i]! + 1 ? [] : [`${ids[i]} then ${id}`]
  );
  assertEquals(gaps, [], `${name}: each message once, in order`);
  assertEquals(frames.at(-1)!.message, messageText(last));
}

for (const target of TARGETS) {
  Deno.test(`joiners during a burst get every message once, after their history (${target.name})`, async () => {
    // Each joiner's history is the whole room, more than 8 MB: more than
    // the kernel and the server let wait for a client that does not read,
    // so it goes out in steps that wait for the joiner, while the burst
    // goes on and the joiner is held.
    await using chat = await target.start({
      ...NO_RATE_LIMITS,
      "join-history": 1000,
    });
    const sender = await chat.connect();
    await sender.join("burst", "Sender");
    sendMessages(sender, 0, FILL, () => FILL_TEXT);
    const filled = await sender.take(FILL);
    assertEquals(filled.at(-1)!.message, FILL_TEXT);

    const joiners: Joiner[] = [];
    try {
      for (let sent = 0; sent < BURST; sent += STEP) {
        sendMessages(sender, sent, STEP);
        if ((sent + STEP) % JOIN_EVERY === 0) {
          const name = `Joiner ${joiners.length}`;
          const conn = await rawWebSocket(chat.wsUrl);
          joiners.push({ name, conn, frames: new FrameReader(conn) });
          const join = { type: "join-room", room_id: "burst", from: name };
          await writeAll(conn, maskedTextFrame(JSON.stringify(join)));
        }
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS / 6));
      }
      const joined = await Promise.all(
        joiners.map(({ frames }) =>
          framesUntil(() => frames.nextText(), BURST - 1)
        ),
      );
      // Once every joiner is in, more: by then each should be live.
      sendMessages(sender, BURST, STEP);
      const last = BURST + STEP - 1;
      for (const [i, { name, frames }] of joiners.entries()) {
        const after = await framesUntil(() => frames.nextText(), last);
        assertExactlyOnce([...joined[i]!, ...after], name, last);
      }
      const senderFrames = await framesUntil(() => sender.next(), last);
      assertEquals(
        senderFrames.filter((f) => f.type === "receive-message").length,
        BURST + STEP,
      );
      assertEquals(
        (await chat.metrics()).get("chat_room_members_catching_up"),
        0,
      );
    } finally {
      for (const { conn } of joiners) conn.close();
    }
  });
}
