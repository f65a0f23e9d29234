import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { HARD_LIMIT_FACTOR, Outbox } from "../lib/outbox.ts";

/**
 * A socket whose backlog the test sets: every send adds to it, as Deno's
 * `bufferedAmount` does, and `drain()` stands for the network taking it.
 */
function fakePeer() {
  const peer = {
    backlog: 0,
    sent: 0,
    dropsOver: Infinity,
    send(text: string) {
      if (peer.backlog > peer.dropsOver) return false;
      peer.backlog += text.length;
      peer.sent++;
      return true;
    },
    bufferedAmount: () => peer.backlog,
    close: () => {},
  };
  return peer;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function outboxOf(peer: ReturnType<typeof fakePeer>, graceMs = 100) {
  let slow = 0;
  const outbox = new Outbox(peer, {
    maxBufferedBytes: 1000,
    graceMs,
    onSlow: () => slow++,
  });
  return { outbox, slow: () => slow };
}

Deno.test("Outbox keeps a reader whose backlog drains after the turn", async () => {
  const peer = fakePeer();
  const { outbox, slow } = outboxOf(peer);
  // Five times the limit in one turn, then the network takes it.
  for (let i = 0; i < 50; i++) outbox.send("x".repeat(100));
  assertEquals(slow(), 0);
  peer.backlog = 0;
  await wait(150);
  assertEquals(slow(), 0);
  outbox.send("after");
  assertEquals(peer.sent, 51);
  outbox.close();
});

Deno.test("Outbox finds a reader slow once its backlog stays over the limit", async () => {
  const peer = fakePeer();
  const { outbox, slow } = outboxOf(peer);
  outbox.send("x".repeat(1500));
  await wait(50);
  assertEquals(slow(), 0, "not before the grace period");
  await wait(120);
  assertEquals(slow(), 1);
  outbox.send("ignored");
  assertEquals(peer.sent, 1);
});

Deno.test("Outbox finds a reader slow soon past the hard limit", async () => {
  const peer = fakePeer();
  const { outbox, slow } = outboxOf(peer, 10_000);
  outbox.send("x".repeat(1000 * HARD_LIMIT_FACTOR + 1));
  assertEquals(slow(), 0, "not in the turn of the send");
  await wait(30);
  assertEquals(slow(), 1);
});

Deno.test("Outbox finds a reader slow when the runtime drops a frame", () => {
  const peer = fakePeer();
  peer.dropsOver = 10;
  const { outbox, slow } = outboxOf(peer);
  outbox.send("x".repeat(20));
  assertEquals(slow(), 0);
  outbox.send("dropped");
  assertEquals(slow(), 1);
});

Deno.test("Outbox.drained() waits until the backlog is under half the limit", async (t) => {
  await t.step("true once the network took it", async () => {
    const peer = fakePeer();
    const { outbox } = outboxOf(peer);
    outbox.send("x".repeat(800));
    assertEquals(outbox.backlogged, false);
    let drained: boolean | undefined;
    outbox.drained().then((result) => drained = result);
    await wait(30);
    assertEquals(drained, undefined);
    peer.backlog = 400;
    await wait(30);
    assertEquals(drained, true);
    outbox.close();
  });

  await t.step("false when the reader is slow", async () => {
    const peer = fakePeer();
    const { outbox, slow } = outboxOf(peer);
    outbox.send("x".repeat(1200));
    assertEquals(await outbox.drained(), false);
    assertEquals(slow(), 1);
  });

  await t.step("false when it closes", async () => {
    const peer = fakePeer();
    const { outbox } = outboxOf(peer);
    outbox.send("x".repeat(800));
    const drained = outbox.drained();
    outbox.close();
    assertEquals(await drained, false);
  });
});
