/**
 * fast-check arbitraries of bad input: random text, random JSON, and
 * near-miss frames and bodies (the right shape with one thing wrong). Valid
 * values are mixed in and aimed at a few rooms, so that joins, sends and
 * reads meet and the fuzzer exercises real state, not only errors.
 *
 * Frames and bodies are built as JSON text rather than with
 * `JSON.stringify`, so they can hold what it cannot write: `__proto__` keys,
 * repeated keys and nesting deeper than any stack.
 *
 * @module
 */
import fc from "npm:fast-check@4.10.2";
import { CLIENT_FRAME_TYPES, LIMITS } from "../lib/contract.ts";

/** JSON text, possibly invalid. */
export type JsonText = string;

/** The room every fuzz test keeps a bystander in. */
export const BYSTANDER_ROOM = "general";

/** Larger than the frame and body limits (64 KiB), far below 4 times it. */
const HUGE = 70_000;

const ROOM_IDS = [
  BYSTANDER_ROOM,
  "r",
  "💬 lounge",
  " padded ",
  "Cafe\u0301", // stored in NFC, as "Café"
  "__proto__",
  "constructor",
  "a/b%2F?#",
  "r".repeat(LIMITS.roomId),
  "💬".repeat(LIMITS.roomId), // characters are code points
];
const NAMES = [
  "Will",
  "Zoë",
  "Zoe\u0308", // the same name, decomposed
  "𝒜𝒹𝒶",
  "👨‍👩‍👧",
  "toString",
  "n".repeat(LIMITS.from),
];
const MESSAGES = [
  "hi",
  "<script>alert(1)</script>",
  "'; DROP TABLE messages; --",
  "two\nlines\tand a tab\r\n",
  "mixed עברית text\u200f.",
  "m".repeat(LIMITS.message),
];

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff })
  .map((unit) => String.fromCharCode(unit));

/** Text of every kind: ASCII, graphemes, any code point, raw code units. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  fc.string({ unit: codeUnit }),
);

/**
 * Strings a text field of at most `max` characters refuses, or just takes:
 * at and over the limit, blank and invisible, with characters that reorder
 * or hide text or act on a terminal, and not in NFC.
 */
function edgeString(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      "",
      " ",
      "\t\r\n",
      "\u00a0\u3000\ufeff", // blank to String.prototype.trim
      "x".repeat(max), // at the limit: accepted
      "x".repeat(max + 1),
      "😀".repeat(max), // two UTF-16 units, one character each
      "😀".repeat(max + 1),
      "e\u0301".repeat(max / 2), // shorter once in NFC
      "\ud800",
      "a\udc00b",
      "\udbff\udfff", // a valid pair: U+10FFFF
      "h".repeat(HUGE),
      "\u200b", // zero-width space: not blank to String.prototype.trim
      "\u200b\u200c\u200d\u2060", // only invisible
      "\u3164", // Hangul filler
      "\u2800", // blank braille
      "\ufe0f", // a variation selector alone
      "\u0301\u0302", // combining marks alone
      `a${"\u0301".repeat(8)}`, // the longest run of marks accepted
      `a${"\u0301".repeat(9)}`,
      "Ann\u202e", // right-to-left override
      "\u2067x\u2069", // an isolate
      "Ann\u200e", // left-to-right mark
      "Ann\u{e0041}", // a tag character
      "🏴󠁧󠁢󠁳󠁣󠁴󠁿", // a flag made of tag characters
      "a\u0000b",
      "\u001b[2J\u001b]0;title\u0007",
      "a\u007fb", // DEL
      "a\u009bb", // C1: CSI
      "a\u2028b", // line separator
    ),
    anyText,
  );
}

/** Nesting deeper than a recursive parser or validator survives. */
const DEEP_ARRAY = "[".repeat(20_000) + "]".repeat(20_000);
const DEEP_OBJECT = '{"a":'.repeat(5_000) + "1" + "}".repeat(5_000);

/** JSON values of the wrong type for a text field. */
const wrongType: fc.Arbitrary<JsonText> = fc.oneof(
  fc.constantFrom(
    "null",
    "true",
    "0",
    "-0",
    "1e308",
    "-1e-320",
    "12345678901234567890123",
    "[]",
    "{}",
    '["general"]',
    '{"toString":"x"}',
    DEEP_ARRAY,
    DEEP_OBJECT,
  ),
  fc.double().map(String).filter((text) => /^[-\d.e+]+$/.test(text)),
  fc.jsonValue({ maxDepth: 3 }).map(json),
);

function json(value: unknown): JsonText {
  return JSON.stringify(value);
}

/**
 * A text field: mostly a valid value (the first one most often, so that
 * frames meet in one room), else an edge case or a wrong type.
 */
function textField(valid: string[], max: number): fc.Arbitrary<JsonText> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(json(valid[0])) },
    { weight: 8, arbitrary: fc.constantFrom(...valid).map(json) },
    { weight: 3, arbitrary: edgeString(max).map(json) },
    { weight: 2, arbitrary: wrongType },
  );
}

const roomId = textField(ROOM_IDS, LIMITS.roomId);
const from = textField(NAMES, LIMITS.from);
const message = textField(MESSAGES, LIMITS.message);

/** Keys that break code which treats an object as a dictionary. */
const extraKey = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "admin",
    "id",
    "sent_at",
    // Repeated keys: JSON.parse keeps the last.
    "type",
    "room_id",
    "from",
    "",
  ),
  anyText,
);

/** `{"key":value,...}` from raw parts. */
export function objectText(entries: [string, JsonText][]): JsonText {
  const members = entries.map(([key, value]) =>
    `${JSON.stringify(key)}:${value}`
  );
  return `{${members.join(",")}}`;
}

/**
 * An object with the given fields, each usually there, and now and then
 * an extra field or two.
 */
function nearMissObject(
  fields: Record<string, fc.Arbitrary<JsonText>>,
): fc.Arbitrary<JsonText> {
  const present = Object.entries(fields).map(([key, value]) =>
    fc.option(value.map((text): [string, JsonText] => [key, text]), {
      freq: 12,
      nil: undefined,
    })
  );
  const extras = fc.oneof(
    { weight: 5, arbitrary: fc.constant([]) },
    fc.array(fc.tuple(extraKey, fc.oneof(wrongType, roomId)), {
      minLength: 1,
      maxLength: 2,
    }),
  );
  return fc.tuple(fc.tuple(...present), extras).map(([entries, more]) =>
    objectText([
      ...entries.filter((entry) => entry !== undefined),
      ...more,
    ])
  );
}

/** The `type` of a frame: mostly right, else a near miss. */
function frameType(type: string): fc.Arbitrary<JsonText> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(json(type)) },
    fc.constantFrom(
      ...[type.toUpperCase(), ` ${type}`, "error", "receive-message", ""]
        .map(json),
    ),
    wrongType,
  );
}

/** The fields of each frame type, and how often it comes (sends most). */
const FRAME_KINDS = {
  "join-room": { weight: 2, fields: { room_id: roomId, from } },
  "leave-room": { weight: 1, fields: { room_id: roomId, from } },
  "send-message": { weight: 3, fields: { room_id: roomId, from, message } },
};

/** A client frame of each type, mostly valid, often with one thing wrong. */
const nearMissFrame: fc.Arbitrary<JsonText> = fc.oneof(
  ...CLIENT_FRAME_TYPES.map((type) => ({
    weight: FRAME_KINDS[type].weight,
    arbitrary: nearMissObject({
      type: frameType(type),
      ...FRAME_KINDS[type].fields,
    }),
  })),
);

/** Whole documents that are odd in themselves. */
const ODD_DOCUMENTS = [
  "",
  " ",
  "{",
  "}",
  '{"type":"join-room"',
  "\ufeff{}",
  "null",
  '"join-room"',
  "[]",
  '{"type":"join-room","room_id":"general","from":"W"} trailing',
  DEEP_ARRAY,
  DEEP_OBJECT,
];

/** A JSON document: mostly near-miss objects, else anything at all. */
function document(object: fc.Arbitrary<JsonText>): fc.Arbitrary<JsonText> {
  return fc.oneof(
    { weight: 12, arbitrary: object },
    { weight: 2, arbitrary: anyText },
    { weight: 2, arbitrary: fc.jsonValue().map(json) },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_DOCUMENTS) },
  );
}

/** A WebSocket frame: text of any kind, now and then a binary one. */
export const wsFrame: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 20, arbitrary: document(nearMissFrame) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
);

/** A request to send with `fetch`; `path` always starts with `/`. */
export interface RestInput {
  method: string;
  path: string;
  /** The `Content-Type` header; `fetch` picks one when it is missing. */
  contentType: string | undefined;
  body: string | undefined;
}

/**
 * The request of `input` to the server at `httpUrl`; any other host is
 * refused, so that no path can send the fuzzer elsewhere.
 */
export function toRequest(httpUrl: string, input: RestInput): Request {
  const url = new URL(httpUrl + input.path);
  if (url.origin !== httpUrl) {
    throw new Error(`${input.path} leaves the server at ${httpUrl}`);
  }
  const headers = new Headers();
  if (input.contentType !== undefined) {
    headers.set("content-type", input.contentType);
  }
  return new Request(url, {
    method: input.method,
    headers,
    body: input.body ?? null,
  });
}

/** `Content-Type` headers: mostly right, else near misses and noise. */
const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant("application/json") },
  fc.constantFrom(
    undefined,
    "Application/JSON; charset=utf-8",
    "application/json;",
    "application/jsonp",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
  ),
  fc.string({ unit: "grapheme-ascii" }), // any printable header value
);

/** A path near `path`: itself mostly, else a look-alike. */
function pathNear(path: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant(path) },
    fc.constantFrom(
      `${path}?room_id=general`,
      `${path}/`,
      `/${path}`,
      path.toUpperCase(),
      `${path}/..`,
      `/%${path.charCodeAt(1).toString(16)}${path.slice(2)}`,
    ),
  );
}

/** A path segment for `GET /rooms/{room_id}`, encoded or raw. */
const roomSegment = fc.oneof(
  fc.constantFrom(...ROOM_IDS).map(encodeURIComponent),
  fc.constantFrom(...ROOM_IDS),
  fc.webSegment(),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom("%", "%zz", "%ED%A0%80", "%00", "%2F", "%20", ".", ".."),
);

const methods = fc.oneof(
  fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"),
  fc.constantFrom("post", "get", "patch", "BREW", "PROPFIND", "M-SEARCH"),
  // Names of Object.prototype members, which a method table must not find.
  fc.constantFrom("toString", "constructor", "__proto__", "hasOwnProperty"),
  // fetch refuses CONNECT, TRACE and TRACK itself.
  fc.stringMatching(/^[A-Za-z]{1,10}$/)
    .filter((method) => !/^(connect|trace|track)$/i.test(method)),
);

const paths = fc.oneof(
  fc.constantFrom("/send", "/receive", "/rooms", "/metrics", "/healthz", "/"),
  fc.webPath().map((path) => path.startsWith("/") ? path : `/${path}`),
  anyText.map((text) => `/${text}`),
);

const sendBody = nearMissObject({ room_id: roomId, from, message });
const receiveBody = nearMissObject({ room_id: roomId });

/** A POST near `path` with a body near `body`, or none. */
function post(path: string, body: fc.Arbitrary<JsonText>) {
  return fc.record({
    method: fc.constant("POST"),
    path: pathNear(path),
    contentType,
    body: fc.option(document(body), { freq: 20, nil: undefined }),
  });
}

/** Any method on any path, with any headers and body. */
const anyRequest = fc.record({
  method: methods,
  path: paths,
  contentType,
  body: fc.option(document(sendBody), { nil: undefined }),
}).map((input) =>
  // fetch refuses a body on GET and HEAD.
  /^(get|head)$/i.test(input.method) ? { ...input, body: undefined } : input
);

/** A request to one of the REST endpoints, or to anything at all. */
export const restInput: fc.Arbitrary<RestInput> = fc.oneof(
  { weight: 4, arbitrary: post("/send", sendBody) },
  { weight: 2, arbitrary: post("/receive", receiveBody) },
  fc.record({
    method: fc.constant("GET"),
    path: fc.oneof(pathNear("/rooms"), roomSegment.map((s) => `/rooms/${s}`)),
    contentType: fc.constant(undefined),
    body: fc.constant(undefined),
  }),
  { weight: 2, arbitrary: anyRequest },
);
