import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  ClientFrame,
  LIMITS,
  ReceiveBody,
  SendBody,
  ServerFrame,
  validate,
} from "../lib/contract.ts";

Deno.test("validate() accepts every valid client frame", async (t) => {
  const frames = [
    { type: "join-room", room_id: "general", from: "Will Hall" },
    { type: "leave-room", room_id: "general", from: "Will Hall" },
    { type: "leave-room", room_id: "general" },
    {
      type: "send-message",
      room_id: "general",
      from: "Will Hall",
      message: "Hello world!",
    },
    {
      type: "send-message",
      room_id: "r".repeat(LIMITS.roomId),
      from: "f".repeat(LIMITS.from),
      message: "💬 ".repeat(LIMITS.message / 3),
    },
  ];
  for (const frame of frames) {
    await t.step(JSON.stringify(frame).slice(0, 60), () => {
      assertEquals(validate(ClientFrame, frame), { ok: true, value: frame });
    });
  }
});

Deno.test("validate() names the first problem of a client frame", async (t) => {
  const cases: [unknown, string][] = [
    [42, "expected a JSON object, not a number"],
    [[], "expected a JSON object, not an array"],
    [null, "expected a JSON object, not null"],
    [{}, "type not provided"],
    [
      { type: "JOIN-ROOM" },
      'type must be one of "join-room", "leave-room", "send-message", not "JOIN-ROOM"',
    ],
    [{ type: "join-room", from: "W" }, "room_id not provided"],
    [{ type: "join-room", room_id: "r" }, "from not provided"],
    [
      { type: "join-room", room_id: ["r"], from: "W" },
      "room_id must be a string",
    ],
    [{ type: "join-room", room_id: "r", from: "" }, "from must not be empty"],
    [
      { type: "join-room", room_id: " \u3000 ", from: "W" },
      "room_id must not be blank",
    ],
    [
      { type: "send-message", room_id: "r", from: "W" },
      "message not provided",
    ],
    [
      { type: "send-message", room_id: "r", from: "W", message: "" },
      "message must not be empty",
    ],
    [
      { type: "send-message", room_id: "r", from: "W", message: "a\0b" },
      "message must not contain control characters other than tab and new line (U+0000)",
    ],
    [
      { type: "send-message", room_id: "r", from: "W", message: "a\ud800" },
      "message must be valid Unicode: it has a lone surrogate",
    ],
    [
      {
        type: "send-message",
        room_id: "r",
        from: "W",
        message: "m",
        sent_at: 1,
      },
      'unknown field "sent_at"',
    ],
    [
      { type: "leave-room", room_id: "r".repeat(LIMITS.roomId + 1) },
      `room_id must be at most ${LIMITS.roomId} characters`,
    ],
  ];
  for (const [input, error] of cases) {
    await t.step(error, () => {
      assertEquals(validate(ClientFrame, input), { ok: false, error });
    });
  }
});

Deno.test("validate() checks the REST bodies", async (t) => {
  await t.step("POST /send takes exactly room_id, from, message", () => {
    const body = { room_id: "r", from: "W", message: "m" };
    assertEquals(validate(SendBody, body), { ok: true, value: body });
    assertEquals(validate(SendBody, { ...body, type: "send-message" }), {
      ok: false,
      error: 'unknown field "type"',
    });
  });

  await t.step("POST /receive takes exactly room_id", () => {
    assertEquals(validate(ReceiveBody, { room_id: "r" }), {
      ok: true,
      value: { room_id: "r" },
    });
    assertEquals(validate(ReceiveBody, {}), {
      ok: false,
      error: "room_id not provided",
    });
  });
});

Deno.test("ServerFrame describes every frame the server sends", () => {
  const frames = [
    {
      type: "receive-message",
      room_id: "r",
      from: "W",
      message: "m",
      sent_at: 1730758663.598467,
      id: 1,
    },
    { type: "join-room", room_id: "r", from: "W" },
    { type: "leave-room", room_id: "r", from: "W" },
    { type: "error", error: "room_id not provided" },
  ];
  for (const frame of frames) {
    assertEquals(validate(ServerFrame, frame), { ok: true, value: frame });
  }
});

/** The result of `POST /send`'s schema for a body with this `from`/`message`. */
function sendBody(fields: { from?: string; message?: string }) {
  return validate(SendBody, {
    room_id: "r",
    from: "W",
    message: "m",
    ...fields,
  });
}

Deno.test("validate() counts characters as code points", async (t) => {
  await t.step("26 emoji are 26 characters", () => {
    const from = "😀".repeat(26);
    assertEquals(sendBody({ from }), {
      ok: true,
      value: { room_id: "r", from, message: "m" },
    });
  });
  await t.step(`${LIMITS.from} emoji fit, one more does not`, () => {
    assertEquals(sendBody({ from: "😀".repeat(LIMITS.from) }).ok, true);
    assertEquals(sendBody({ from: "😀".repeat(LIMITS.from + 1) }), {
      ok: false,
      error: `from must be at most ${LIMITS.from} characters`,
    });
  });
});

Deno.test("validate() refuses names and rooms that deceive", async (t) => {
  const invisible = (code: string) =>
    `from must not contain invisible or control characters (U+${code})`;
  const cases: [string, string, string][] = [
    ["a right-to-left override", "Ann\u202e", invisible("202E")],
    ["a left-to-right isolate", "\u2066Ann", invisible("2066")],
    ["a left-to-right mark", "Ann\u200e", invisible("200E")],
    ["the Arabic letter mark", "Ann\u061c", invisible("061C")],
    ["a zero-width space", "An\u200bn", invisible("200B")],
    ["only zero-width spaces", "\u200b\u200b", invisible("200B")],
    ["an escape (C0)", "Ann\u001b[2J", invisible("001B")],
    ["a tab", "Ann\tHall", invisible("0009")],
    ["DEL", "Ann\u007f", invisible("007F")],
    ["a C1 control", "Ann\u009b", invisible("009B")],
    ["a line separator", "Ann\u2028Bob", invisible("2028")],
    ["a soft hyphen", "An\u00adn", invisible("00AD")],
    ["a byte order mark", "\ufeffAnn", invisible("FEFF")],
    ["a tag character", "Ann\u{e0041}", invisible("E0041")],
    ["a Hangul filler", "\u3164", invisible("3164")],
    ["a halfwidth Hangul filler", "Ann\uffa0", invisible("FFA0")],
    ["a Hangul choseong filler", "\u115f", invisible("115F")],
    [
      "only blank braille",
      "\u2800\u2800",
      "from must contain a visible character, not only spaces, marks or invisible characters",
    ],
    [
      "only a variation selector",
      "\ufe0f",
      "from must contain a visible character, not only spaces, marks or invisible characters",
    ],
    [
      "only combining marks",
      "\u0301\u0302",
      "from must contain a visible character, not only spaces, marks or invisible characters",
    ],
    [
      "nine combining marks in a row",
      `a${"\u0301".repeat(9)}`,
      "from must not have more than 8 combining marks or variation selectors in a row",
    ],
    [
      "nine variation selectors in a row",
      `a${"\ufe0f".repeat(9)}`,
      "from must not have more than 8 combining marks or variation selectors in a row",
    ],
    ["only spaces of all kinds", " \u00a0\u3000", "from must not be blank"],
  ];
  for (const [what, from, error] of cases) {
    await t.step(what, () => {
      assertEquals(sendBody({ from }), { ok: false, error });
    });
  }
});

Deno.test("validate() accepts the names people write", async (t) => {
  const names = [
    "Zoë",
    "Ægir Ólafsson",
    "محمد",
    "עִבְרִית",
    "東京",
    "नमस्ते",
    "ਗੁਰਮੁਖੀ",
    "👨‍👩‍👧 family",
    "❤️",
    "🇫🇷 Marie",
    "Tiếng Việt",
    "a\u200cb",
  ];
  for (const from of names) {
    await t.step(from, () => {
      assertEquals(sendBody({ from }), {
        ok: true,
        value: { room_id: "r", from, message: "m" },
      });
    });
  }
});

Deno.test("validate() stores names, rooms and messages in NFC", () => {
  const decomposed = "Zoe\u0308";
  const result = validate(SendBody, {
    room_id: `Cafe\u0301`,
    from: decomposed,
    message: `re\u0301sume\u0301`,
  });
  assertEquals(result, {
    ok: true,
    value: { room_id: "Café", from: "Zoë", message: "résumé" },
  });
});

Deno.test("validate() lets messages keep new lines but not terminal controls", async (t) => {
  const accepted = [
    "line one\nline two",
    "a\ttab",
    "windows\r\nline",
    "mixed עברית text\u200f.",
    "a soft\u00adhyphen",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿 a flag made of tag characters",
  ];
  for (const message of accepted) {
    await t.step(`accepts ${JSON.stringify(message)}`, () => {
      assertEquals(sendBody({ message }).ok, true);
    });
  }
  const refused: [string, string][] = [
    [
      "\u001b[2J cleared",
      "message must not contain control characters other than tab and new line (U+001B)",
    ],
    [
      "bell\u0007",
      "message must not contain control characters other than tab and new line (U+0007)",
    ],
    [
      "csi\u009b31m",
      "message must not contain control characters other than tab and new line (U+009B)",
    ],
    [
      "invoice\u202efdp.exe",
      "message must not contain bidirectional embedding, override or isolate characters (U+202E)",
    ],
    [
      "\u2067isolated\u2069",
      "message must not contain bidirectional embedding, override or isolate characters (U+2067)",
    ],
    [
      "\u200b\n\u200b",
      "message must contain a visible character, not only spaces, marks or invisible characters",
    ],
    [
      `Z${"\u0336".repeat(20)}algo`,
      "message must not have more than 8 combining marks or variation selectors in a row",
    ],
  ];
  for (const [message, error] of refused) {
    await t.step(`refuses ${JSON.stringify(message)}`, () => {
      assertEquals(sendBody({ message }), { ok: false, error });
    });
  }
});
