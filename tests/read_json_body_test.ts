import {
  deepStrictEqual as assertEquals,
  rejects as assertRejects,
} from "node:assert/strict";
import { HttpError } from "../lib/http/http_error.ts";
import { readJsonBody } from "../lib/http/read_json_body.ts";

const LIMIT = 64;
const JSON_TYPE = { "content-type": "application/json" };

/** A body that arrives in two chunks, with no declared length. */
function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return ReadableStream.from([bytes.slice(0, 5), bytes.slice(5)]);
}

function post(body: BodyInit, headers: HeadersInit = JSON_TYPE): Request {
  return new Request("http://x/send", { method: "POST", headers, body });
}

/** A request with its Content-Length declared, as a client sends it. */
function declared(text: string): Request {
  const length = String(new TextEncoder().encode(text).length);
  return post(text, { ...JSON_TYPE, "content-length": length });
}

function refusal(status: number, message: RegExp) {
  return (error: unknown) =>
    error instanceof HttpError && error.status === status &&
    message.test(error.message);
}

Deno.test("readJsonBody() reads a JSON body", async (t) => {
  const body = { room_id: "general" };
  const text = JSON.stringify(body);
  await t.step("with a declared length", async () => {
    assertEquals(await readJsonBody(declared(text), { maxBytes: LIMIT }), body);
  });
  await t.step("in chunks, without one", async () => {
    assertEquals(
      await readJsonBody(post(chunked(text)), { maxBytes: LIMIT }),
      body,
    );
  });
});

Deno.test("readJsonBody() refuses", async (t) => {
  const large = JSON.stringify({ message: "x".repeat(LIMIT) });
  const cases: [string, () => Request, number, RegExp][] = [
    [
      "a declared length over the limit",
      () => declared(large),
      413,
      /limit of 64 bytes/,
    ],
    [
      "a chunked body over the limit",
      () => post(chunked(large)),
      413,
      /limit of 64 bytes/,
    ],
    ["an empty body", () => declared(""), 400, /body is empty/],
    ["invalid JSON", () => declared("{nope"), 400, /not valid JSON/],
    [
      "another media type",
      () => post("{}", { "content-type": "text/plain" }),
      415,
      /application\/json/,
    ],
  ];
  for (const [what, request, status, message] of cases) {
    await t.step(what, async () => {
      await assertRejects(
        readJsonBody(request(), { maxBytes: LIMIT }),
        refusal(status, message),
      );
    });
  }
});

/** A byte stream (as Deno gives a chunked body) of one-byte chunks. */
function byteByByte(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let next = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (next < bytes.length) {
        controller.enqueue(bytes.slice(next, ++next));
        return;
      }
      controller.close();
      // A byte stream's pending read into a view ends only with this.
      controller.byobRequest?.respond(0);
    },
  });
}

Deno.test("readJsonBody() reads a byte stream into one buffer", async (t) => {
  const body = { room_id: "r", pad: "é".repeat(3000) };
  await t.step("to the end", async () => {
    const request = post(byteByByte(JSON.stringify(body)));
    assertEquals(await readJsonBody(request, { maxBytes: 65536 }), body);
  });
  await t.step("refused as soon as it passes the limit", async () => {
    const request = post(byteByByte(JSON.stringify(body)));
    await assertRejects(
      readJsonBody(request, { maxBytes: 5000 }),
      refusal(413, /limit of 5000 bytes/),
    );
  });
});

Deno.test("readJsonBody() gives a body a deadline", async (t) => {
  for (const stalled of [false, true]) {
    await t.step(stalled ? "with a declared length" : "chunked", async () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"room_id":'));
        },
      });
      const headers = stalled
        ? { ...JSON_TYPE, "content-length": "100" }
        : JSON_TYPE;
      await assertRejects(
        readJsonBody(post(body, headers), { maxBytes: 1000, timeoutMs: 50 }),
        (error) =>
          refusal(408, /did not arrive within 0.05 s/)(error) &&
          new Headers((error as HttpError).headers).get("connection") ===
            "close",
      );
    });
  }
});

Deno.test("readJsonBody() refuses a body that breaks off with 400", async () => {
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new Error("connection reset"));
    },
  });
  await assertRejects(
    readJsonBody(post(body), { maxBytes: LIMIT }),
    refusal(400, /could not be read: connection reset/),
  );
});
