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
    assertEquals(await readJsonBody(declared(text), LIMIT), body);
  });
  await t.step("in chunks, without one", async () => {
    assertEquals(await readJsonBody(post(chunked(text)), LIMIT), body);
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
        readJsonBody(request(), LIMIT),
        refusal(status, message),
      );
    });
  }
});
