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
