import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { REDIS_TARGETS, TARGETS } from "./_targets.ts";

/** Frames that must each be answered with exactly this error. */
const BAD_FRAMES: [string, string | Uint8Array, string][] = [
  [
    "invalid JSON",
    "hello",
    'frame is not valid JSON: unexpected "h" at line 1, column 1: expected a JSON value',
  ],
  [
    "an empty frame",
    "",
    "frame is not valid JSON: unexpected end at line 1, column 1: expected a JSON value",
  ],
  [
    "JSON cut short",
    '{"type":"join-room"',
    'frame is not valid JSON: unexpected end at line 1, column 20: expected "," or "}"',
  ],
  ["a JSON array", "[1,2]", "expected a JSON object, not an array"],
  ["a JSON string", '"join-room"', "expected a JSON object, not a string"],
  ["JSON null", "null", "expected a JSON object, not null"],
  ["no type", '{"room_id":"general"}', "type not provided"],
  [
    "an unknown type",
    '{"type":"shout","room_id":"general"}',
    'type must be one of "join-room", "leave-room", "send-message", not "shout"',
  ],
  [
    "a type that is not a string",
    '{"type":7}',
    'type must be one of "join-room", "leave-room", "send-message", not 7',
  ],
  [
    "a missing field",
    '{"type":"join-room","from":"Will"}',
    "room_id not provided",
  ],
  [
    "an empty field",
    '{"type":"join-room","room_id":"","from":"Will"}',
    "room_id must not be empty",
  ],
  [
    "a blank field",
    '{"type":"join-room","room_id":"general","from":"   "}',
    "from must not be blank",
  ],
  [
    "a field of the wrong type",
    '{"type":"send-message","room_id":"general","from":"Will","message":42}',
    "message must be a string",
  ],
  [
    "an unknown field",
    '{"type":"join-room","room_id":"general","from":"Will","admin":true}',
    'unknown field "admin"',
  ],
  [
    "a __proto__ key",
    '{"type":"join-room","room_id":"general","from":"Will","__proto__":{}}',
    'unknown field "__proto__"',
  ],
  [
    "a room_id over its limit",
    JSON.stringify({ type: "join-room", room_id: "r".repeat(101), from: "W" }),
    "room_id must be at most 100 characters",
  ],
  [
    "a name over its limit",
    JSON.stringify({ type: "join-room", room_id: "r", from: "W".repeat(51) }),
    "from must be at most 50 characters",
  ],
  [
    "a message over its limit",
    JSON.stringify({
      type: "send-message",
      room_id: "r",
      from: "W",
      message: "m".repeat(5001),
    }),
    "message must be at most 5000 characters",
  ],
  [
    "a frame over the size limit",
    JSON.stringify({
      type: "join-room",
      room_id: "r",
      from: "x".repeat(70000),
    }),
    "frame is larger than the limit of 65536 bytes",
  ],
  [
    "a binary frame",
    new TextEncoder().encode('{"type":"join-room"}'),
    "binary frames are not supported: send JSON as a text frame",
  ],
  [
    "send-message to a room not joined",
    '{"type":"send-message","room_id":"elsewhere","from":"W","message":"hi"}',
    'Cannot send to room "elsewhere": join it first',
  ],
  [
    "leave-room of a room not joined",
    '{"type":"leave-room","room_id":"elsewhere"}',
    'Cannot leave room "elsewhere": you have not joined it',
  ],
  [
    "join-room of a room already joined",
    '{"type":"join-room","room_id":"general","from":"Again"}',
    'You already joined room "general" as "Mallory"',
  ],
];

for (const target of [...TARGETS, ...REDIS_TARGETS]) {
  Deno.test(`WebSocket bad frames (${target.name})`, async (t) => {
    await using chat = await target.start();
    const bystander = await chat.connect();
    await bystander.join("general", "Bystander");
    const mallory = await chat.connect();
    await mallory.join("general", "Mallory");
    await bystander.next();

    for (const [what, frame, error] of BAD_FRAMES) {
      await t.step(`${what} gets an error frame`, async () => {
        mallory.send(frame);
        assertEquals(await mallory.next(), { type: "error", error });
      });
    }

    await t.step("the connection and the server keep working", async () => {
      mallory.send({
        type: "send-message",
        room_id: "general",
        from: "Mallory",
        message: "still here",
      });
      assertEquals((await mallory.next()).message, "still here");
      assertEquals((await bystander.next()).message, "still here");
      await bystander.expectNoFrames();
      const newcomer = await chat.connect();
      const frames = await newcomer.join("general", "Newcomer");
      assertEquals(frames.map((frame) => frame.message ?? frame.type), [
        "still here",
        "join-room",
      ]);
    });

    await t.step("nothing invalid was stored", async () => {
      const { body } = await chat.get("/rooms");
      assertEquals(body.rooms, ["general"]);
    });
  });

  Deno.test(`WebSocket frame size limit (${target.name})`, async (t) => {
    await t.step("counts UTF-8 bytes, not characters", async () => {
      await using chat = await target.start({ "max-frame-bytes": 1024 });
      const client = await chat.connect();
      const frame = (from: string) =>
        JSON.stringify({ type: "join-room", room_id: "r", from });
      client.send(frame("é".repeat(45)).padEnd(900, " ")); // 945 bytes
      assertEquals((await client.next()).type, "join-room");
      client.send(frame("€".repeat(40)).padEnd(983, " ")); // 1063 bytes
      assertEquals(await client.next(), {
        type: "error",
        error: "frame is larger than the limit of 1024 bytes",
      });
    });
  });
}
