import {
  deepStrictEqual as assertEquals,
  rejects as assertRejects,
} from "node:assert/strict";
import { Batcher } from "../lib/store/batcher.ts";
import { within } from "./_helpers.ts";

/** A batcher whose writes are recorded; each item's result is its double. */
function recordingBatcher() {
  const writes: number[][] = [];
  const batcher = new Batcher((items: number[]) => {
    writes.push(items);
    return items.map((item) => item * 2);
  });
  return { batcher, writes };
}

Deno.test("Batcher.add() writes the items of one turn in one call", async () => {
  const { batcher, writes } = recordingBatcher();
  const first = [1, 2, 3].map((item) => batcher.add(item));
  assertEquals(writes, [], "nothing is written synchronously");
  assertEquals(await within(Promise.all(first), "the first batch"), [2, 4, 6]);
  assertEquals(await within(batcher.add(4), "the second batch"), 8);
  assertEquals(writes, [[1, 2, 3], [4]]);
});

Deno.test("Batcher.add() settles only after the write of its batch", async () => {
  const events: string[] = [];
  const batcher = new Batcher((items: string[]) => {
    events.push(`write ${items.join(",")}`);
    return items;
  });
  await within(
    Promise.all(["a", "b"].map(async (item) => {
      await batcher.add(item);
      events.push(`settled ${item}`);
    })),
    "the batch",
  );
  assertEquals(events, ["write a,b", "settled a", "settled b"]);
});

Deno.test("Batcher.add() rejects every item of a failed write", async () => {
  const batcher = new Batcher((_items: number[]): number[] => {
    throw new Error("disk full");
  });
  const results = await within(
    Promise.allSettled([batcher.add(1), batcher.add(2)]),
    "the failed batch",
  );
  assertEquals(results.map((result) => result.status), [
    "rejected",
    "rejected",
  ]);
  await assertRejects(within(batcher.add(3), "the next batch"), /disk full/);
});

Deno.test("Batcher.flush() writes the queued items at once", async () => {
  const { batcher, writes } = recordingBatcher();
  const pending = batcher.add(1);
  batcher.flush();
  assertEquals(writes, [[1]]);
  assertEquals(await pending, 2);
  batcher.flush();
  assertEquals(writes, [[1]], "an empty flush writes nothing");
});

Deno.test("Batcher retries a failed write, keeping the order of the items", async () => {
  const writes: string[][] = [];
  let failures = 2;
  const batcher = new Batcher((items: string[]) => {
    writes.push(items);
    if (failures-- > 0) throw new Error("busy");
    return items;
  }, { retry: () => 5 });
  const first = batcher.add("a");
  await new Promise((resolve) => setTimeout(resolve, 1));
  // Added while "a" waits for its next try: written with it, after it.
  const second = batcher.add("b");
  assertEquals(await within(Promise.all([first, second]), "the retries"), [
    "a",
    "b",
  ]);
  assertEquals(writes.at(-1), ["a", "b"]);
  assertEquals(writes.length, 3);
});

Deno.test("Batcher gives up when retry says so, rejecting the batch", async () => {
  const seen: number[] = [];
  const batcher = new Batcher((_items: number[]): number[] => {
    throw new Error("disk full");
  }, {
    retry: (_error, failedSince) => {
      seen.push(failedSince);
      return seen.length < 3 ? 1 : undefined;
    },
  });
  const results = [batcher.add(1), batcher.add(2)];
  for (const result of results) {
    await assertRejects(within(result, "the rejection"), /disk full/);
  }
  assertEquals(new Set(seen).size, 1, "failedSince is the first failure");
});

Deno.test("Batcher.flush() tries a waiting batch once more, for good", async () => {
  let fail = true;
  const batcher = new Batcher((items: number[]) => {
    if (fail) throw new Error("busy");
    return items;
  }, { retry: () => 60_000 });
  const pending = batcher.add(1);
  await new Promise((resolve) => setTimeout(resolve, 1));
  batcher.flush();
  await assertRejects(within(pending, "the rejection"), /busy/);
  fail = false;
  const next = batcher.add(2);
  batcher.flush();
  assertEquals(await within(next, "the write"), 2);
});
