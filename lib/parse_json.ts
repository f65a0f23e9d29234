/**
 * `JSON.parse` with an error message that is the same on every runtime.
 *
 * Each JavaScript engine words its own JSON errors: V8 (Deno) says
 * `Unexpected token 'h', "hello" is not valid JSON`, JavaScriptCore (Bun)
 * says `JSON Parse error: Unexpected identifier "hello"` and echoes the whole
 * input back. Those messages reach clients in error frames and bodies, so
 * the server describes the mistake itself, from the text: where it is, what
 * was found and what was expected there.
 *
 * @module
 */

/** The parsed value, or what is wrong with the text. */
export type ParsedJson =
  | { ok: true; value: unknown }
  | { ok: false; error: string };

/**
 * Parses JSON text.
 *
 * @example
 * ```ts
 * parseJson('{"room_id": 1}'); // { ok: true, value: { room_id: 1 } }
 * parseJson("{room_id: 1}");
 * // { ok: false, error: 'unexpected "r" at line 1, column 2: expected a property name in double quotes or "}"' }
 * ```
 */
export function parseJson(text: string): ParsedJson {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: findSyntaxError(text) ?? "it is not JSON" };
  }
}

/** What may come next, as the error message names it. */
const EXPECTED = {
  value: "a JSON value",
  firstValue: 'a JSON value or "]"',
  key: "a property name in double quotes",
  firstKey: 'a property name in double quotes or "}"',
  colon: '":"',
  comma: '"," or the closing bracket',
  end: "the end of the JSON",
};

type Expectation = keyof typeof EXPECTED;

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
/**
 * A string's characters up to its closing quote or the first mistake. JSON
 * forbids raw control characters in strings, so the pattern names them.
 */
const STRING_BODY =
  // deno-lint-ignore no-control-regex
  /(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[\da-fA-F]{4}))*/y;

/**
 * The first syntax error in `text`, or `undefined` if it is valid JSON.
 * One pass, without recursion, so deep nesting cannot overflow the stack.
 */
export function findSyntaxError(text: string): string | undefined {
  /** The closing bracket of each array or object that is open. */
  const open: ("]" | "}")[] = [];
  let expect: Expectation = "value";
  let at = 0;
  const afterValue = (): Expectation => open.length > 0 ? "comma" : "end";

  for (;;) {
    at = skip(WHITESPACE, text, at);
    const char = text[at];
    if (char === undefined && expect === "end") return undefined;
    const closer = open.at(-1);
    const valueNext: boolean = expect === "value" || expect === "firstValue";
    const keyNext: boolean = expect === "key" || expect === "firstKey";
    if (
      (expect === "firstValue" && char === "]") ||
      (expect === "firstKey" && char === "}") ||
      (expect === "comma" && char === closer)
    ) {
      open.pop();
      at++;
      expect = afterValue();
    } else if (expect === "comma" && char === ",") {
      at++;
      expect = closer === "}" ? "key" : "value";
    } else if (expect === "colon" && char === ":") {
      at++;
      expect = "value";
    } else if (char === '"' && (valueNext || keyNext)) {
      const end = skip(STRING_BODY, text, at + 1);
      if (text[end] !== '"') return stringError(text, end);
      at = end + 1;
      expect = keyNext ? "colon" : afterValue();
    } else if (valueNext) {
      if (char === "{" || char === "[") {
        open.push(char === "{" ? "}" : "]");
        at++;
        expect = char === "{" ? "firstKey" : "firstValue";
        continue;
      }
      const end = Math.max(skip(NUMBER, text, at), skip(LITERAL, text, at));
      if (end === at) return unexpected(text, at, EXPECTED[expect]);
      at = end;
      expect = afterValue();
    } else {
      const expected = expect === "comma"
        ? `"," or "${closer}"`
        : EXPECTED[expect];
      return unexpected(text, at, expected);
    }
  }
}

/** Where `pattern` (sticky) stops matching from `at`; `at` if it does not match. */
function skip(pattern: RegExp, text: string, at: number): number {
  pattern.lastIndex = at;
  return pattern.test(text) ? pattern.lastIndex : at;
}

/** Describes what stopped a string at `at`: its end, a bad escape or a control character. */
function stringError(text: string, at: number): string {
  if (text[at] === "\\") {
    return unexpected(
      text,
      at,
      'an escape: \\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\u and four hex digits',
      text.slice(at, at + 2),
    );
  }
  return unexpected(
    text,
    at,
    text[at] === undefined
      ? 'the closing " of a string'
      : "a character of a string (control characters need an escape, such as \\n)",
  );
}

/** `unexpected "x" at line 1, column 5: expected …`. */
function unexpected(
  text: string,
  at: number,
  expected: string,
  found = text[at] === undefined
    ? undefined
    : String.fromCodePoint(text.codePointAt(at)!),
): string {
  const line = text.slice(0, at).split("\n").length;
  const column = at - text.lastIndexOf("\n", at - 1);
  const what = found === undefined ? "end" : JSON.stringify(found);
  return `unexpected ${what} at line ${line}, column ${column}: expected ${expected}`;
}
