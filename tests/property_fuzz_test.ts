/**
 * Property-based tests: thousands of random strings, random JSON values and
 * near-miss frames and requests thrown at one running server, over the
 * WebSocket and at every REST endpoint. A model built from the wire
 * contract says what each input must do. The properties: every reply is a
 * valid error or exactly the event or answer the model predicts (never a
 * 5xx), a bystander in the busiest room receives exactly what it should,
 * only accepted input is stored, and the server stays up.
 *
 * A failure prints fast-check's seed and path; replay it with
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path> deno task test`. `FUZZ_RUNS=<n>` runs
 * longer.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import fc from "npm:fast-check@4.10.2";
import { METHODS } from "node:http";
import * as v from "valibot";
import { ServerFrame } from "../lib/contract.ts";
import { FAR_OVER_FACTOR } from "../lib/dispatcher.ts";
import {
  BYSTANDER_ROOM,
  type RestInput,
  restInput,
  toRequest,
  wsFrame,
} from "./_bad_input.ts";
import {
  ConnectionModel,
  type Draft,
  type Expected,
  StoreModel,
  type StoreReader,
  summarize,
} from "./_chat_model.ts";
import {
  type Frame,
  openClient,
  type TestClient,
  type TestServer,
  WAIT_MS,
  within,
} from "./_helpers.ts";
import {
  type RestExpected,
  RestModel,
  withoutServerPicked,
} from "./_rest_model.ts";
import { NO_RATE_LIMITS, type Target, TARGETS } from "./_targets.ts";

// About 150 × 24 frames and 120 × 19 requests: some 6000 inputs a run.
const WEBSOCKET_RUNS = 150;
const FRAMES_PER_RUN = 50;
const REST_RUNS = 120;
const REQUESTS_PER_RUN = 40;

/** The server's defaults, which the models need to know. */
const SERVER_LIMITS = {
  maxFrameBytes: 65536,
  maxBodyBytes: 65536,
  pageMaxBytes: 1024 * 1024,
  joinHistory: 50,
};

for (const target of TARGETS) {
  Deno.test(`WebSocket random and near-miss frames (${target.name})`, async (t) => {
    await using chat = await target.start(NO_RATE_LIMITS);
    // More history than a join sends, so every join must cut it right.
    for (let i = 1; i <= SERVER_LIMITS.joinHistory + 10; i++) {
      await chat.post("/send", {
        room_id: BYSTANDER_ROOM,
        from: "Seed",
        message: `history ${i}`,
      });
    }
    const bystander = await chat.connect();
    await bystander.join(BYSTANDER_ROOM, "Bystander");

    await t.step(
      "get an error or the promised events; only valid ones are stored",
      async () => {
        const batches = fc.array(wsFrame.filter(keepsSocketOpen), {
          minLength: 1,
          maxLength: FRAMES_PER_RUN,
          size: "max",
        });
        await fc.assert(
          fc.asyncProperty(
            batches,
            (frames) => checkFrames(chat, bystander, frames),
          ),
          fuzzParameters(WEBSOCKET_RUNS),
        );
      },
    );

    await t.step(
      "the server stays up and the bystander hears a real message",
      async () => {
        assertEquals((await chat.get("/healthz")).status, 200);
        const client = await chat.connect();
        await client.join(BYSTANDER_ROOM, "Late");
        client.send({
          type: "send-message",
          room_id: BYSTANDER_ROOM,
          from: "Late",
          message: "still here",
        });
        const sent = await client.next();
        assertEquals(sent.message, "still here");
        assertEquals(await bystander.take(2), [
          { type: "join-room", room_id: BYSTANDER_ROOM, from: "Late" },
          sent,
        ]);
        await bystander.expectNoFrames();
      },
    );
  });

  Deno.test(`REST random and near-miss requests (${target.name})`, async (t) => {
    await using chat = await target.start(NO_RATE_LIMITS);
    const bystander = await chat.connect();
    await bystander.join(BYSTANDER_ROOM, "Bystander");

    await t.step(
      "get a 4xx error or the promised answer; only valid ones are stored",
      async () => {
        const batches = fc.array(restInput, {
          minLength: 1,
          maxLength: REQUESTS_PER_RUN,
          size: "max",
        });
        await fc.assert(
          fc.asyncProperty(
            batches,
            (inputs) => checkRequests(target, chat, bystander, inputs),
          ),
          fuzzParameters(REST_RUNS),
        );
      },
    );

    await t.step(
      "the server stays up and the bystander hears a real message",
      async () => {
        assertEquals((await chat.get("/healthz")).status, 200);
        const sent = await chat.post("/send", {
          room_id: BYSTANDER_ROOM,
          from: "Late",
          message: "still here",
        });
        assertEquals(await bystander.next(), {
          type: "receive-message",
          ...sent.body,
        });
        await bystander.expectNoFrames();
      },
    );
  });
}

/**
 * The WebSocket property: a new client sends `frames` and closes. It gets
 * the replies the model predicts, the bystander hears what the model says
 * its room heard, and the store holds what the model holds.
 */
async function checkFrames(
  chat: TestServer,
  bystander: TestClient,
  frames: (string | Uint8Array)[],
): Promise<void> {
  const store = storeOf(chat);
  const model = await StoreModel.of(store);
  const connection = new ConnectionModel(model, SERVER_LIMITS);
  const expected = frames.flatMap((frame) => connection.receive(frame));
  connection.close();

  const replies = await repliesTo(chat.wsUrl, frames);
  // Once the client has left every room, the server has sent the
  // bystander all it would, so a probe's answer comes after all of it.
  await eventually(
    async () => (await chat.metrics()).get("chat_room_members") === 1,
    "the client to leave",
  );
  const heard = await bystander.framesBeforeProbe();
  const stored = await StoreModel.of(store);

  // Everything is read before any check, so that a failed run leaves
  // nothing queued to confuse the next one while fast-check shrinks.
  assertFrames(replies, expected);
  assertFrames(heard, heardIn(BYSTANDER_ROOM, connection.broadcasts));
  assertEquals(stored.toJSON(), model.toJSON());
}

/**
 * The REST property: each request gets the answer the model predicts (or at
 * least no 5xx), the bystander hears each message stored in its room, and
 * the store holds what the model holds.
 */
async function checkRequests(
  target: Target,
  chat: TestServer,
  bystander: TestClient,
  inputs: RestInput[],
): Promise<void> {
  const store = storeOf(chat);
  const model = await StoreModel.of(store);
  const rest = new RestModel(model, {
    maxBodyBytes: SERVER_LIMITS.maxBodyBytes,
    pageMaxBytes: SERVER_LIMITS.pageMaxBytes,
    members: (roomId) => roomId === BYSTANDER_ROOM ? ["Bystander"] : [],
  });
  const exchanges = [];
  for (const input of inputs) {
    const request = toRequest(chat.httpUrl, input);
    const expected = await rest.expect(request);
    if (target.runtime === "bun" && !METHODS.includes(request.method)) {
      // Bun's HTTP parser refuses a method that is not a registered one
      // ("BREW", "patch", "__proto__") before the server's code, which
      // answers 405 on Deno, sees the request: it closes the connection,
      // or answers an empty 400.
      const reply = await fetchReply(chat.httpUrl, input).catch(() => null);
      assert(reply === null || (reply.status === 400 && reply.text === ""));
      continue;
    }
    const reply = await fetchReply(chat.httpUrl, input);
    exchanges.push({ input, expected, reply });
  }
  const heard = await bystander.framesBeforeProbe();
  const stored = await StoreModel.of(store);

  for (const { input, expected, reply } of exchanges) {
    assertReply(input, expected, reply);
  }
  assertFrames(
    heard,
    rest.sent
      .filter((draft) => draft.room_id === BYSTANDER_ROOM)
      .map((draft) => ({ type: "receive-message", ...draft })),
  );
  assertEquals(stored.toJSON(), model.toJSON());
}

/**
 * Whether the server answers `frame` with an error frame rather than closing
 * the socket (1009), as it does for frames far over the size limit.
 */
function keepsSocketOpen(frame: string | Uint8Array): boolean {
  const bytes = typeof frame === "string"
    ? new TextEncoder().encode(frame).length
    : frame.length;
  return bytes <= FAR_OVER_FACTOR * SERVER_LIMITS.maxFrameBytes;
}

/** fast-check's settings, with the replay variables of the module doc. */
function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  const seed = Deno.env.get("FUZZ_SEED");
  const path = Deno.env.get("FUZZ_PATH");
  return {
    numRuns: Number(Deno.env.get("FUZZ_RUNS") ?? numRuns),
    ...seed && { seed: Number(seed) },
    ...path && { path },
  };
}

/** Asserts each frame is a valid server frame, and they are `expected`. */
function assertFrames(frames: Frame[], expected: Expected[]): void {
  for (const frame of frames) {
    assert(v.is(ServerFrame, frame), `invalid frame ${JSON.stringify(frame)}`);
    if (frame.type === "error") assert(frame.error !== "", "empty error");
  }
  assertEquals(frames.map(summarize), expected);
}

/** The broadcasts a member of `roomId` receives. */
function heardIn(roomId: string, broadcasts: Expected[]): Expected[] {
  return broadcasts.filter((frame) =>
    "room_id" in frame && frame.room_id === roomId
  );
}

/** The server's whole history, read from outside: the rooms, then each page. */
function storeOf(chat: TestServer): StoreReader {
  return {
    async rooms() {
      const rooms: string[] = [];
      for (let after = "";;) {
        const { body } = await chat.get(`/rooms${after && `?after=${after}`}`);
        rooms.push(...body.rooms);
        if (!body.has_more) return rooms;
        after = body.next;
      }
    },
    async read(roomId) {
      const messages: Draft[] = [];
      for (let after = 0;;) {
        const { body } = await chat.post("/receive", {
          room_id: roomId,
          after,
        });
        messages.push(...body.messages);
        if (!body.has_more) return { messages };
        after = body.messages.at(-1).id;
      }
    },
  };
}

/** Sends `frames` from a new client and returns its replies, then closes it. */
async function repliesTo(
  wsUrl: string,
  frames: (string | Uint8Array)[],
): Promise<Frame[]> {
  const client = await openClient(wsUrl);
  try {
    for (const frame of frames) client.send(frame);
    return await client.framesBeforeProbe();
  } finally {
    await client.close();
  }
}

/** Waits, at most {@linkcode WAIT_MS}, until `condition()` holds. */
async function eventually(condition: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + WAIT_MS;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A REST answer, its body read as text. */
interface TextReply {
  /** The method as sent (`fetch` upper-cases the standard ones). */
  method: string;
  status: number;
  text: string;
}

/** Sends the request of `input` and reads the answer. */
async function fetchReply(
  httpUrl: string,
  input: RestInput,
): Promise<TextReply> {
  const request = toRequest(httpUrl, input);
  const response = await within(fetch(request), `${input.method} reply`);
  const text = await within(response.text(), "the response body");
  return { method: request.method, status: response.status, text };
}

const ErrorBody = v.strictObject({ error: v.pipe(v.string(), v.nonEmpty()) });

/** Asserts an answer is no 5xx, a JSON error if 4xx, and what was expected. */
function assertReply(
  input: RestInput,
  expected: RestExpected,
  { method, status, text }: TextReply,
): void {
  const what = `${input.method} ${input.path} -> ${status} ${text}`;
  assert(status < 500, what);
  if (status >= 400 && method !== "HEAD") {
    assert(v.is(ErrorBody, JSON.parse(text)), what);
  }
  if (expected.outcome === "refused") assert(status >= 400, what);
  if (expected.outcome === "ok") {
    assertEquals(status, 200, what);
    assertEquals(withoutServerPicked(JSON.parse(text)), expected.body, what);
  }
}
