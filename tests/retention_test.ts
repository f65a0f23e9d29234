import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { Retention, type RetentionOptions } from "../lib/retention.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import type { PruneOptions } from "../lib/store/store.ts";
import { within } from "./_helpers.ts";

/** A memory store on a hand-set clock that records every prune() call. */
class RecordingStore extends MemoryStore {
  time = 1_700_000_000;
  calls: PruneOptions[] = [];
  failures = 0;
  /** While set, prune() waits for it: a pass held in progress. */
  gate: Promise<void> | undefined;

  constructor() {
    super({ now: () => this.time });
  }

  override async prune(options: PruneOptions): Promise<number> {
    this.calls.push(options);
    await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw new Error("disk I/O error");
    }
    return super.prune(options);
  }

  async fill(roomId: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      await this.append({ room_id: roomId, from: "A", message: `${i}` });
    }
  }
}

/** A retention that `await using` stops, on the store's clock. */
function retentionOf(
  store: RecordingStore,
  options: RetentionOptions,
): Retention & AsyncDisposable {
  const retention = new Retention(store, { now: () => store.time, ...options });
  return Object.assign(retention, {
    [Symbol.asyncDispose]: () => retention.stop(),
  });
}

Deno.test("Retention.prune() drops messages older than maxAgeSeconds", async () => {
  const store = new RecordingStore();
  await using retention = retentionOf(store, { maxAgeSeconds: 60 });
  await store.fill("old", 3);
  store.time += 45;
  await store.fill("young", 2);
  assertEquals(await retention.prune(), 0, "nothing is 60 s old yet");
  store.time += 30;
  assertEquals(await retention.prune(), 3);
  assertEquals(await store.rooms({ limit: 10 }), { rooms: ["young"] });
});

Deno.test("Retention.prune() keeps maxPerRoom messages per room", async () => {
  const store = new RecordingStore();
  await using retention = retentionOf(store, { maxPerRoom: 2 });
  await store.fill("r", 5);
  assertEquals(await retention.prune(), 3);
  const page = await store.read("r");
  assertEquals(page.messages.map((message) => message.message), ["3", "4"]);
});

Deno.test("Retention.prune() works in steps of stepSize", async () => {
  const store = new RecordingStore();
  await using retention = retentionOf(store, { maxPerRoom: 1, stepSize: 4 });
  await store.fill("r", 11);
  assertEquals(await retention.prune(), 10);
  assertEquals(store.calls.map((call) => call.limit), [4, 4, 4]);
});

Deno.test("Retention.prune() runs after the pass already running", async () => {
  const store = new RecordingStore();
  await using retention = retentionOf(store, { maxAgeSeconds: 10 });
  await store.fill("r", 1);
  const gate = Promise.withResolvers<void>();
  store.gate = gate.promise;
  const first = retention.prune();
  await within(
    (async () => {
      while (store.calls.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })(),
    "the first pass to start",
  );
  store.time += 60;
  const second = retention.prune();
  store.gate = undefined;
  gate.resolve();
  assertEquals(await first, 0, "its cutoff was taken before the clock moved");
  // A second call that joined the first pass would miss the clock's move.
  assertEquals(await second, 1);
});

Deno.test("Retention.start() prunes in the background until stop()", async () => {
  const store = new RecordingStore();
  const retention = retentionOf(store, { maxPerRoom: 1, intervalMs: 10 });
  retention.start();
  await store.fill("r", 3);
  await within(
    (async () => {
      while ((await store.stats("r")).message_count > 1) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })(),
    "the background pass",
  );
  await retention.stop();
  const calls = store.calls.length;
  await store.fill("r", 3);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assertEquals(store.calls.length, calls, "no pass after stop()");
});

Deno.test("Retention.start() reports a failed pass and keeps going", async () => {
  const store = new RecordingStore();
  store.failures = 1;
  const errors: unknown[] = [];
  await using retention = retentionOf(store, {
    maxPerRoom: 1,
    intervalMs: 10,
    onError: (error) => errors.push(error),
  });
  await store.fill("r", 2);
  retention.start();
  await within(
    (async () => {
      while ((await store.stats("r")).message_count > 1) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })(),
    "the pass after the failed one",
  );
  assertEquals(errors.length, 1);
  assert(String(errors[0]).includes("disk I/O error"));
});

Deno.test("Retention.start() does nothing without limits", async () => {
  const store = new RecordingStore();
  await using retention = retentionOf(store, { maxPerRoom: Infinity });
  assertEquals(retention.enabled, false);
  retention.start();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertEquals(store.calls, []);
});
