import {
  deepStrictEqual as assertEquals,
  rejects as assertRejects,
} from "node:assert/strict";
import { QuotaError } from "../lib/quota_error.ts";
import { StorageQuota } from "../lib/storage_quota.ts";
import { MemoryStore } from "../lib/store/memory.ts";

const draft = (room_id: string) => ({ room_id, from: "W", message: "m" });

Deno.test("StorageQuota.admit() decides a known room at once", async () => {
  const store = new MemoryStore();
  await store.append(draft("old"));
  const quota = new StorageQuota(store, { ipMessageRate: 0 });
  const first = quota.admit(draft("old"), "ip");
  assertEquals(first instanceof Promise, true, "asks the store once");
  await first;
  assertEquals(quota.admit(draft("old"), "ip"), undefined);
});

Deno.test("StorageQuota.admit() counts a new room once, however many messages it gets", async () => {
  const quota = new StorageQuota(new MemoryStore(), {
    ipMessageRate: 0,
    ipRoomsPerMinute: 1,
  });
  for (let i = 0; i < 10; i++) await quota.admit(draft("a"), "ip");
  await quota.admit(draft("b"), "ip");
  await assertRejects(
    async () => await quota.admit(draft("c"), "ip"),
    (error: unknown) =>
      error instanceof QuotaError && error.status === 429 &&
      error.reason === "room_rate_limited",
  );
  await quota.admit(draft("c"), "another ip");
});

Deno.test("StorageQuota.admit() sums an address's messages", () => {
  const quota = new StorageQuota(new MemoryStore(), { ipMessageRate: 1 });
  quota.admit(draft("a"), "ip");
  quota.admit(draft("a"), "ip");
  let refusal: unknown;
  try {
    quota.admit(draft("a"), "ip");
  } catch (error) {
    refusal = error;
  }
  assertEquals(
    refusal instanceof QuotaError ? [refusal.status, refusal.message] : refusal,
    [429, "rate limited: too many messages from ip; retry in 1 s"],
  );
});
