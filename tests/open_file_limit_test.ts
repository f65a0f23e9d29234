import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  connectionCap,
  parseOpenFileLimit,
  readOpenFileLimit,
} from "../lib/open_file_limit.ts";

const LIMITS =
  `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max open files            1024                 4096                 files     
Max locked memory         8388608              8388608              bytes     
`;

Deno.test("parseOpenFileLimit() reads the soft limit of /proc/self/limits", () => {
  assertEquals(parseOpenFileLimit(LIMITS), 1024);
  assertEquals(
    parseOpenFileLimit(LIMITS.replace("1024 ", "unlimited ")),
    undefined,
  );
  assertEquals(parseOpenFileLimit(""), undefined);
});

Deno.test("readOpenFileLimit() reads this process's limit", () => {
  const limit = readOpenFileLimit();
  if (Deno.build.os === "linux") {
    assertEquals(typeof limit, "number");
  } else assertEquals(limit, undefined);
});

Deno.test("connectionCap() keeps descriptors for the process", () => {
  for (
    const [limit, cap] of [
      [256, 192],
      [1024, 960],
      [65536, 61440],
      [64, 1],
    ]
  ) assertEquals(connectionCap(limit!), cap, `limit ${limit}`);
  assertEquals(connectionCap(undefined), 960, "as if it were 1024");
});
