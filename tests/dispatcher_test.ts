import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { ClientFrame } from "../lib/contract.ts";
import { createDispatcher } from "../lib/dispatcher.ts";
import { ProtocolError } from "../lib/protocol_error.ts";

/** A dispatcher whose handlers record the frames they get. */
function recordingDispatcher(
  failWith?: Error,
  options: { maxFrameBytes?: number } = {},
) {
  const handled: ClientFrame[] = [];
  const replies: unknown[] = [];
  const unexpected: unknown[] = [];
  const closes: [number, string][] = [];
  function handle(frame: ClientFrame) {
    handled.push(frame);
    if (failWith) throw failWith;
  }
  const dispatch = createDispatcher(
    { "join-room": handle, "leave-room": handle, "send-message": handle },
    {
      send: (text) => void replies.push(JSON.parse(text)),
      close: (code, reason) => void closes.push([code, reason]),
    },
    { ...options, onUnexpectedError: (error) => unexpected.push(error) },
  );
  return { dispatch, handled, replies, unexpected, closes };
}

Deno.test("createDispatcher() calls the handler of the frame's type", async () => {
  const { dispatch, handled, replies } = recordingDispatcher();
  const frames = [
    { type: "join-room", room_id: "r", from: "W" },
    { type: "send-message", room_id: "r", from: "W", message: "m" },
    { type: "leave-room", room_id: "r" },
  ];
  for (const frame of frames) await dispatch(JSON.stringify(frame));
  assertEquals(handled, frames);
  assertEquals(replies, []);
});

Deno.test("createDispatcher() answers bad input with an error frame", async (t) => {
  const cases: [unknown, string][] = [
    [
      new ArrayBuffer(4),
      "binary frames are not supported: send JSON as a text frame",
    ],
    ["{", "frame is not valid JSON: "],
    ["7", "expected a JSON object, not a number"],
    ['{"type":"join-room","room_id":"r"}', "from not provided"],
    ["x".repeat(300), "frame is larger than the limit of 256 bytes"],
    [
      new Uint8Array(1000),
      "binary frames are not supported: send JSON as a text frame",
    ],
  ];
  for (const [data, error] of cases) {
    await t.step(error, async () => {
      const { dispatch, handled, replies } = recordingDispatcher(undefined, {
        maxFrameBytes: 256,
      });
      await dispatch(data);
      assertEquals(handled, []);
      assertEquals(replies.length, 1);
      const [reply] = replies as { type: string; error: string }[];
      assertEquals(reply!.type, "error");
      assertEquals(reply!.error.startsWith(error), true, reply!.error);
    });
  }
});

Deno.test("createDispatcher() turns handler errors into error frames", async (t) => {
  const frame = JSON.stringify({ type: "leave-room", room_id: "r" });

  await t.step("a ProtocolError's message goes to the client", async () => {
    const { dispatch, replies, unexpected } = recordingDispatcher(
      new ProtocolError(
        'Cannot leave room "r": you have not joined it',
        "not_joined",
      ),
    );
    await dispatch(frame);
    assertEquals(replies, [{
      type: "error",
      error: 'Cannot leave room "r": you have not joined it',
    }]);
    assertEquals(unexpected, []);
  });

  await t.step("any other error is reported, not shown", async () => {
    const bug = new TypeError("undefined is not a function");
    const { dispatch, replies, unexpected } = recordingDispatcher(bug);
    await dispatch(frame);
    assertEquals(replies, [{
      type: "error",
      error: 'The server failed to handle "leave-room"; try again',
    }]);
    assertEquals(unexpected, [bug]);
  });
});

Deno.test("createDispatcher() closes with 1009 for a frame far over the limit", async (t) => {
  const cases: [string, unknown][] = [
    ["text", "x".repeat(1025)],
    ["binary", new Uint8Array(1025)],
    ["a Blob", new Blob([new Uint8Array(1025)])],
  ];
  for (const [what, data] of cases) {
    await t.step(what, async () => {
      const { dispatch, replies, closes } = recordingDispatcher(undefined, {
        maxFrameBytes: 256,
      });
      await dispatch(data);
      assertEquals(replies, []);
      assertEquals(closes, [[1009, "Received too big message"]]);
    });
  }
});
