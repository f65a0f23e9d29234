import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { escapeControls } from "../lib/escape_controls.ts";

Deno.test("escapeControls() makes every control character visible", async (t) => {
  const cases: [string, string, string][] = [
    ["plain text, accents and emoji", "Ça va? 👋 <b>", "Ça va? 👋 <b>"],
    ["clear screen", "\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"],
    ["window title", "\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"],
    [
      "a forged line",
      "hi\n[general] 12:00 Admin: x",
      "hi\\n[general] 12:00 Admin: x",
    ],
    [
      "carriage return, tab, NUL, DEL",
      "a\rb\tc\0d\x7f",
      "a\\rb\\tc\\x00d\\x7f",
    ],
    ["C1 controls (CSI, NEL)", "\x9b2J\x85", "\\x9b2J\\x85"],
    ["line and paragraph separators", "a\u2028b\u2029c", "a\\u2028b\\u2029c"],
    [
      "bidi overrides, embeddings, isolates and marks",
      "\u202eevil\u202a\u2066\u2069\u200e\u200f\u061c",
      "\\u202eevil\\u202a\\u2066\\u2069\\u200e\\u200f\\u061c",
    ],
  ];
  for (const [what, text, shown] of cases) {
    await t.step(what, () => assertEquals(escapeControls(text), shown));
  }
});
