/**
 * The text fields of the wire contract: identifiers (`room_id`, `from`) and
 * messages (`message`), with the rules that keep them honest on screen.
 *
 * - Length is counted in characters, that is Unicode code points, as JSON
 *   Schema's `maxLength` counts them: an emoji such as 😀 is one, a flag
 *   such as 🇫🇷 two (two regional indicators).
 * - Identifiers follow RFC 8265 (PRECIS) in spirit: no control characters
 *   and no invisible formatting characters (which let "Ann" and "Ann" with a
 *   zero-width space be two people), except the zero-width joiner and
 *   non-joiner that emoji and some scripts need.
 * - Messages keep tab and new lines but no other control character (they
 *   act on terminals), and no bidirectional embedding, override or isolate
 *   (which reorder the text around them: "Trojan Source").
 * - Neither may be invisible: made only of spaces, formatting characters,
 *   fillers, blank braille or combining marks, nor hold a run of more than
 *   {@linkcode MAX_MARK_RUN} combining marks or variation selectors.
 * - A value is checked as sent, then stored and echoed in NFC, the
 *   composed form (so "é" typed as e + U+0301 and "é" are one name).
 *
 * Each rule that JSON Schema can state is in the field's `pattern`; the
 * rest (which need Unicode's tables of combining marks, or characters
 * outside the Basic Multilingual Plane) are said in its `description`.
 *
 * @module
 */
import * as v from "valibot";

/** The longest run of combining marks or variation selectors accepted. */
const MAX_MARK_RUN = 8;

// Character classes as regular-expression source, for both the server's
// checks and the published pattern. The pattern has no flags (JSON Schema
// has none), so it names only characters of the Basic Multilingual Plane;
// a surrogate pair stands for any other character.

/** C0 controls but tab, line feed and carriage return. */
const C0_BUT_WHITESPACE = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f";
/** The rest of the control characters: tab, LF, CR, then DEL and C1. */
const OTHER_CONTROLS = "\\t\\n\\r\\u007f-\\u009f";
/** Bidirectional embeddings, overrides and isolates. */
const BIDI_REORDERING = "\\u202a-\\u202e\\u2066-\\u2069";
/**
 * Invisible characters of the BMP but the joiners (U+200C, U+200D):
 * formatting characters (Cf: soft hyphen, zero-width space, bidi marks,
 * word joiner, BOM...), the line and paragraph separators, the combining
 * grapheme joiner, Hangul fillers and the other default-ignorable ones.
 */
const INVISIBLE =
  "\\u00ad\\u034f\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2" +
  "\\u115f\\u1160\\u17b4\\u17b5\\u180e\\u200b\\u200e\\u200f\\u2028\\u2029" +
  "\\u202a-\\u202e\\u2060-\\u206f\\u3164\\ufeff\\uffa0\\ufff0-\\ufffb";
/** What shows nothing though allowed: joiners, blank braille, selectors. */
const BLANK_LOOKING =
  "\\u200c\\u200d\\u2800\\u180b-\\u180d\\u180f\\ufe00-\\ufe0f";

/**
 * The pattern of a text field: no character of `forbidden` and no lone
 * surrogate (the lookahead), then at least one character that is neither
 * white space nor invisible. Linear: each step has one way to match.
 */
function pattern(forbidden: string): RegExp {
  const blank = `\\s${INVISIBLE}${BLANK_LOOKING}`;
  return new RegExp(
    `^(?=(?:[^${forbidden}\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])*$)` +
      `[${blank}]*[^${blank}]`,
  );
}

/** Everything the server checks, with Unicode's tables (the `u` flag). */
const RULES = {
  identifier: {
    pattern: pattern(C0_BUT_WHITESPACE + OTHER_CONTROLS + INVISIBLE),
    // Every formatting character, in every plane (tag characters too), but
    // the joiners.
    forbidden: new RegExp(
      `(?![\\u200c\\u200d])[\\p{Cc}\\p{Cf}${INVISIBLE}]`,
      "u",
    ),
    forbiddenIs: () => "invisible or control characters",
  },
  message: {
    pattern: pattern(
      C0_BUT_WHITESPACE + "\\u007f-\\u009f" + BIDI_REORDERING,
    ),
    forbidden: new RegExp(
      `[${C0_BUT_WHITESPACE}\\u007f-\\u009f${BIDI_REORDERING}]`,
      "u",
    ),
    forbiddenIs: (char: string) =>
      /\p{Cc}/u.test(char)
        ? "control characters other than tab and new line"
        : "bidirectional embedding, override or isolate characters",
  },
} as const;

/** A character that shows something. */
const VISIBLE =
  /[^\s\p{Cf}\p{M}\p{Default_Ignorable_Code_Point}\u2800\u2028\u2029]/u;
/** A run of combining marks (variation selectors are marks too). */
const MARK_RUN = new RegExp(`\\p{M}{${MAX_MARK_RUN + 1}}`, "u");

/** Printable ASCII, spaces included, and nothing else. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** A printable ASCII character that is not a space. */
const VISIBLE_ASCII = /[\x21-\x7e]/;

/**
 * Whether `text` is printable ASCII with a character that is not a space:
 * such a text passes every rule of both kinds and is its own NFC, so the
 * checks that need Unicode's tables skip it. Most text is of this kind.
 */
function isPlainAscii(text: string): boolean {
  return PRINTABLE_ASCII.test(text) && VISIBLE_ASCII.test(text);
}

/** The number of Unicode code points of `text`, up to `limit` + 1. */
function characterCount(text: string, limit = Infinity): number {
  // A code point is one or two UTF-16 units: most texts need no counting.
  if (text.length <= limit) return text.length;
  let count = 0;
  for (let i = 0; i < text.length && count <= limit; i++, count++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return count;
}

/** `U+202E`: how a character is named in a message. */
function codePoint(char: string): string {
  return `U+${
    char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")
  }`;
}

/** What is wrong with `text` as a field of this kind, in plain words. */
function problemOf(
  name: string,
  kind: keyof typeof RULES,
  text: string,
): string | undefined {
  const rules = RULES[kind];
  const forbidden = rules.forbidden.exec(text)?.[0];
  if (forbidden !== undefined) {
    return `${name} must not contain ${rules.forbiddenIs(forbidden)} (${
      codePoint(forbidden)
    })`;
  }
  if (!text.isWellFormed()) {
    return `${name} must be valid Unicode: it has a lone surrogate`;
  }
  if (!VISIBLE.test(text)) {
    return /^\s*$/.test(text)
      ? `${name} must not be blank`
      : `${name} must contain a visible character, not only spaces, marks or invisible characters`;
  }
  if (MARK_RUN.test(text)) {
    return `${name} must not have more than ${MAX_MARK_RUN} combining marks or variation selectors in a row`;
  }
  return undefined;
}

/**
 * A check that JSON Schema states as `jsonSchema`; `{}` for one it cannot
 * state, which the field's description then explains. The API documents
 * are generated from these (see `lib/docs/component_schemas.ts`).
 */
function documentedCheck(
  requirement: (text: string) => boolean,
  message: (issue: v.CheckIssue<string>) => string,
  jsonSchema: Record<string, unknown>,
) {
  return Object.assign(v.check(requirement, message), { jsonSchema });
}

/** The description of a field of this kind, for the API documents. */
function description(kind: keyof typeof RULES, max: number): string {
  const allowed = kind === "identifier"
    ? "No control character and no invisible formatting character (Cf, bar the zero-width joiner and non-joiner)"
    : "Tab and new lines are kept; no other control character, and no bidirectional embedding, override or isolate";
  return `At most ${max} characters (Unicode code points). ${allowed}. ` +
    `It must show something: not only spaces, formatting characters, fillers, blank braille or combining marks. ` +
    `Beyond what this pattern checks, the server also refuses ` +
    (kind === "identifier"
      ? "formatting characters outside the Basic Multilingual Plane (such as tag characters U+E0000 to U+E007F), "
      : "") +
    `text made only of combining marks, and runs of more than ${MAX_MARK_RUN} combining marks or variation selectors. ` +
    `The value is stored and echoed in Unicode NFC.`;
}

/**
 * A required text field of this kind, at most `max` characters: checked as
 * sent, then normalised to NFC.
 */
export function textField(
  name: string,
  kind: keyof typeof RULES,
  max: number,
) {
  const problem = (issue: { input: unknown }) =>
    problemOf(name, kind, String(issue.input)) ??
      `${name} is not acceptable text`;
  return v.pipe(
    v.string(`${name} must be a string`),
    v.nonEmpty(`${name} must not be empty`),
    documentedCheck(
      (text) => characterCount(text, max) <= max,
      () => `${name} must be at most ${max} characters`,
      { maxLength: max },
    ),
    // The published pattern states part of these rules; the server checks
    // them all at once (a text that passes them also matches the pattern).
    documentedCheck(
      (text) => isPlainAscii(text) || problemOf(name, kind, text) === undefined,
      problem,
      { pattern: RULES[kind].pattern.source },
    ),
    toNfc(),
    v.description(description(kind, max)),
  );
}

/** `v.normalize("NFC")`, which plain ASCII, its own NFC, skips. */
function toNfc(): v.NormalizeAction<"NFC"> {
  const normalize = v.normalize("NFC");
  return {
    ...normalize,
    "~run"(dataset) {
      if (!isPlainAscii(dataset.value)) {
        dataset.value = dataset.value.normalize("NFC");
      }
      return dataset;
    },
  };
}
