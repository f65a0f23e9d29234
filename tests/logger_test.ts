import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
} from "node:assert/strict";
import { Logger, type LoggerOptions } from "../lib/logger.ts";

function capture(options: LoggerOptions) {
  const lines: string[] = [];
  const logger = new Logger({
    ...options,
    write: (line) => void lines.push(line),
  });
  return { logger, lines };
}

Deno.test("Logger writes text lines with key=value fields", () => {
  const { logger, lines } = capture({});
  logger.info("connection.close", { id: 3, reason: "client too slow" });
  assertEquals(lines.length, 1);
  assertMatch(
    lines[0]!,
    /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO connection\.close id=3 reason="client too slow"$/,
  );
});

Deno.test("Logger writes one JSON object per line", () => {
  const { logger, lines } = capture({ format: "json" });
  logger.error("frame.failed", { type: "join-room", error: new Error("boom") });
  const entry = JSON.parse(lines[0]!);
  assertEquals(
    { ...entry, time: typeof entry.time },
    {
      time: "string",
      level: "error",
      event: "frame.failed",
      type: "join-room",
      error: "boom",
    },
  );
});

Deno.test("Logger leaves out events below its level", () => {
  const { logger, lines } = capture({ level: "warn" });
  logger.debug("a");
  logger.info("b");
  logger.warn("c");
  logger.error("d");
  assertEquals(lines.map((line) => line.split(" ")[2]), ["c", "d"]);
  assertEquals(new Logger({ level: "silent" }).enabled("error"), false);
});

/** What a client may put in a close reason or a room id. */
const HOSTILE =
  "\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202egnp.exe\u2028x\u007f";

/** Characters no log line may hold raw: C0, DEL, C1, bidi controls, U+2028/9. */
const RAW_CONTROL =
  /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

Deno.test("Logger escapes control characters in text lines", () => {
  const { logger, lines } = capture({});
  logger.info("connection.close", { code: 4000, reason: HOSTILE });
  assertEquals(RAW_CONTROL.test(lines[0]!), false, JSON.stringify(lines[0]));
  assertMatch(
    lines[0]!,
    / reason="\\u001b\[2J\\u001b\]0;pwned\\u0007\\u009b31m\\u202egnp\.exe\\u2028x\\u007f"$/,
  );
  logger.info("a", { text: "plain", lone: "\ud800", emoji: "💬" });
  assertMatch(lines[1]!, / a text=plain lone="\\ud800" emoji=💬$/);
});

Deno.test("Logger escapes control characters in JSON lines too", () => {
  const { logger, lines } = capture({ format: "json" });
  logger.info("connection.close", { reason: HOSTILE });
  assertEquals(RAW_CONTROL.test(lines[0]!), false, JSON.stringify(lines[0]));
  // Still JSON, and the same text once parsed.
  assertEquals(JSON.parse(lines[0]!).reason, HOSTILE);
});
