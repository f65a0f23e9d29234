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
      { type: "join-room", room_id: "\n\t ", from: "W" },
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
      "message must not contain the NUL character (\\u0000)",
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
