import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { findSyntaxError, parseJson } from "../lib/parse_json.ts";

Deno.test("parseJson() returns the value of valid JSON", () => {
  assertEquals(parseJson(' {"room_id": ["a", 1, true, null]} '), {
    ok: true,
    value: { room_id: ["a", 1, true, null] },
  });
});

Deno.test("parseJson() says where and why JSON is invalid", async (t) => {
  const cases: [string, string][] = [
    ["", "unexpected end at line 1, column 1: expected a JSON value"],
    ["hello", 'unexpected "h" at line 1, column 1: expected a JSON value'],
    [
      "{room_id: 1}",
      'unexpected "r" at line 1, column 2: expected a property name in double quotes or "}"',
    ],
    ['{"a" 1}', 'unexpected "1" at line 1, column 6: expected ":"'],
    ["[1 2]", 'unexpected "2" at line 1, column 4: expected "," or "]"'],
    ["[1,]", 'unexpected "]" at line 1, column 4: expected a JSON value'],
    [
      '{"a":1}x',
      'unexpected "x" at line 1, column 8: expected the end of the JSON',
    ],
    [
      '{\n  "a": 1,\n}',
      'unexpected "}" at line 3, column 1: expected a property name in double quotes',
    ],
    [
      '"abc',
      'unexpected end at line 1, column 5: expected the closing " of a string',
    ],
    [
      '"a\tb"',
      'unexpected "\\t" at line 1, column 3: expected a character of a string (control characters need an escape, such as \\n)',
    ],
    [
      '"\\x"',
      'unexpected "\\\\x" at line 1, column 2: expected an escape: \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\u and four hex digits',
    ],
    ["😀", 'unexpected "😀" at line 1, column 1: expected a JSON value'],
    [
      "[".repeat(100_000),
      'unexpected end at line 1, column 100001: expected a JSON value or "]"',
    ],
  ];
  for (const [text, error] of cases) {
    await t.step(JSON.stringify(text.slice(0, 20)), () => {
      assertEquals(parseJson(text), { ok: false, error });
    });
  }
});

Deno.test("findSyntaxError() finds an error exactly when JSON.parse() throws", () => {
  // Valid JSON, and valid JSON with one character changed or cut short.
  const nearMiss = fc.json().chain((json) =>
    fc.tuple(
      fc.nat(json.length),
      fc.constantFrom(...'",]}:\\ x\u0001-0e.tn'.split(""), ""),
    ).map(([at, char]) => json.slice(0, at) + char + json.slice(at + 1))
  );
  const text = fc.oneof(
    fc.json(),
    nearMiss,
    fc.json().map((json) => json.slice(0, -1)),
    fc.string(),
  );
  fc.assert(
    fc.property(text, (text) => {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      const error = findSyntaxError(text);
      assert(valid === (error === undefined), `${text}: ${error}`);
    }),
    { numRuns: 5000 },
  );
});
