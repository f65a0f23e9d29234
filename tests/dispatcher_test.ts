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
      ...options,
      isOpen: () => true,
      reply: (text) => void replies.push(JSON.parse(text)),
      close: (code, reason) => void closes.push([code, reason]),
      onUnexpectedError: (error) => unexpected.push(error),
    },
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

Deno.test("createDispatcher() keeps a connection's frames in order", async (t) => {
  /** Handlers whose work finishes only when the test says so. */
  function gatedDispatcher(admit?: () => void | Promise<void>) {
    const events: string[] = [];
    const gates = new Map<string, PromiseWithResolvers<void>>();
    const gate = (name: string) => {
      const gated = Promise.withResolvers<void>();
      gates.set(name, gated);
      return gated.promise;
    };
    const dispatch = createDispatcher(
      {
        "join-room": async (frame) => {
          events.push(`start join ${frame.room_id}`);
          await gate(`join ${frame.room_id}`);
          events.push(`end join ${frame.room_id}`);
        },
        "leave-room": () => void events.push("leave"),
        "send-message": (frame) => {
          events.push(`start send ${frame.message}`);
          if (frame.message === "refused") {
            throw new ProtocolError("refused", "test");
          }
          return gate(`send ${frame.message}`).then(() =>
            void events.push(`end send ${frame.message}`)
          );
        },
      },
      {
        isOpen: () => true,
        admit,
        reply: (text) => void events.push(`reply ${JSON.parse(text).error}`),
        close: () => {},
      },
    );
    const open = async (name: string) => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      gates.get(name)!.resolve();
      await new Promise((resolve) => setTimeout(resolve, 0));
    };
    return { dispatch, events, open };
  }
  const send = (message: string) =>
    JSON.stringify({ type: "send-message", room_id: "r", from: "W", message });

  await t.step(
    "consecutive sends start together, other frames wait",
    async () => {
      const { dispatch, events, open } = gatedDispatcher();
      const all = [
        dispatch(send("a")),
        dispatch(send("b")),
        dispatch(JSON.stringify({ type: "leave-room", room_id: "r" })),
      ];
      await new Promise((resolve) => setTimeout(resolve, 0));
      assertEquals(events, ["start send a", "start send b"]);
      await open("send a");
      await open("send b");
      await Promise.all(all);
      assertEquals(events.slice(2), ["end send a", "end send b", "leave"]);
    },
  );

  await t.step("a send waits for the join before it", async () => {
    const { dispatch, events, open } = gatedDispatcher();
    const all = [
      dispatch(JSON.stringify({ type: "join-room", room_id: "r", from: "W" })),
      dispatch(send("a")),
    ];
    await new Promise((resolve) => setTimeout(resolve, 0));
    assertEquals(events, ["start join r"]);
    await open("join r");
    await open("send a");
    await Promise.all(all);
    assertEquals(events, [
      "start join r",
      "end join r",
      "start send a",
      "end send a",
    ]);
  });

  await t.step("a refused send answers after the sends before it", async () => {
    const { dispatch, events, open } = gatedDispatcher();
    const all = [
      dispatch(send("a")),
      dispatch(send("refused")),
      dispatch(send("c")),
      dispatch("not json"),
    ];
    await new Promise((resolve) => setTimeout(resolve, 0));
    assertEquals(events, ["start send a", "start send refused"]);
    await open("send a");
    await open("send c");
    await Promise.all(all);
    assertEquals(events.slice(2), [
      "end send a",
      "reply refused",
      "start send c",
      "end send c",
      events.at(-1),
    ]);
    assertEquals(
      events.at(-1)!.startsWith("reply frame is not valid JSON"),
      true,
    );
  });
});

Deno.test("createDispatcher() keeps the order when the budget takes a while", async (t) => {
  const send = (message: string) =>
    JSON.stringify({ type: "send-message", room_id: "r", from: "W", message });

  await t.step("a refusal decided after a wait does not overtake", async () => {
    const events: string[] = [];
    let budget = 2;
    const dispatch = createDispatcher({
      "join-room": () => {},
      "leave-room": () => {},
      "send-message": (frame) => {
        events.push(`store ${frame.message}`);
        return new Promise((resolve) => setTimeout(resolve, 5)).then(() =>
          void events.push(`echo ${frame.message}`)
        );
      },
    }, {
      isOpen: () => true,
      // A budget kept elsewhere: each decision takes a round trip.
      admit: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (budget-- <= 0) throw new ProtocolError("over budget", "test");
      },
      reply: (text) => void events.push(`reply ${JSON.parse(text).error}`),
      close: () => {},
    });
    await Promise.all(["a", "b", "c", "d"].map((m) => dispatch(send(m))));
    assertEquals(events, [
      "store a",
      "store b",
      "echo a",
      "echo b",
      "reply over budget",
      "reply over budget",
    ]);
  });

  await t.step("every frame spends from the budget, valid or not", async () => {
    let spent = 0;
    const dispatch = createDispatcher({
      "join-room": () => {},
      "leave-room": () => {},
      "send-message": () => {},
    }, {
      isOpen: () => true,
      spend: () => void spent++,
      reply: () => {},
      close: () => {},
    });
    await dispatch("not json");
    await dispatch(new Uint8Array(3));
    await dispatch(JSON.stringify({ type: "leave-room", room_id: "r" }));
    await dispatch(send("m"));
    assertEquals(spent, 4);
  });
});

Deno.test("createDispatcher() drops the frames still queued once closed", async () => {
  let open = true;
  const handled: string[] = [];
  const gate = Promise.withResolvers<void>();
  const dispatch = createDispatcher({
    "join-room": (frame) => void handled.push(`join ${frame.room_id}`),
    "leave-room": () => void handled.push("leave"),
    "send-message": (frame) => {
      handled.push(`send ${frame.message}`);
      return gate.promise;
    },
  }, {
    isOpen: () => open,
    reply: (text) => void handled.push(`reply ${text}`),
    close: () => {},
  });
  const all = [
    dispatch(
      JSON.stringify({
        type: "send-message",
        room_id: "a",
        from: "W",
        message: "m",
      }),
    ),
    dispatch(JSON.stringify({ type: "join-room", room_id: "b", from: "W" })),
    dispatch("not json"),
  ];
  await new Promise((resolve) => setTimeout(resolve, 0));
  open = false;
  gate.resolve();
  await Promise.all(all);
  await dispatch(JSON.stringify({ type: "leave-room", room_id: "a" }));
  assertEquals(handled, ["send m"]);
});

Deno.test("createDispatcher() closes with 1009 for a frame far over the limit", async (t) => {
  const cases: [string, unknown][] = [
    ["text", "x".repeat(1025)],
    ["text counted in bytes", "€".repeat(342)],
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
