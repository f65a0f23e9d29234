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
