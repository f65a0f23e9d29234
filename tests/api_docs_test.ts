import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import type * as v from "valibot";
import { Chat } from "../lib/chat.ts";
import {
  CLIENT_FRAME_TYPES,
  ClientFrame,
  ErrorReply,
  LIMITS,
  ReceiveBody,
  ReceiveReply,
  RoomReply,
  RoomsReply,
  SendBody,
  ServerFrame,
  StoredMessage,
  validate,
} from "../lib/contract.ts";
import { asyncApiDocument } from "../lib/docs/asyncapi.ts";
import { openApiDocument } from "../lib/docs/openapi.ts";
import { opsRoutes } from "../lib/http/ops_routes.ts";
import { createRestHandler } from "../lib/http/rest_handler.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import { readReply } from "./_helpers.ts";
import {
  brokenRefs,
  componentValidators,
  type Json,
  validateAsyncApi,
  validateOpenApi,
} from "./_json_schema.ts";

/** The REST handler with every route the server has, operations included. */
function handler() {
  const chat = new Chat({ store: new MemoryStore() });
  return createRestHandler(chat, {
    extraRoutes: opsRoutes({
      chat,
      openConnections: () => 0,
      shuttingDown: () => false,
    }),
  });
}

function postJson(path: string, body: unknown) {
  return new Request(`http://x${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("openApiDocument() is a valid OpenAPI 3.1 document", async (t) => {
  const document: Json = openApiDocument();

  await t.step("by the official schema", () => {
    assertEquals(validateOpenApi(document), []);
  });

  await t.step("whose every $ref points at something", () => {
    assertEquals(brokenRefs(document), []);
  });

  await t.step("whose schemas compile as strict JSON Schema", () => {
    const validators = componentValidators(document, "draft-2020-12");
    assert(validators.size >= 8, `only ${validators.size} schemas`);
  });

  await t.step("whose examples match their schemas", () => {
    const validators = componentValidators(document, "draft-2020-12");
    const examples = mediaTypeExamples(document);
    assert(examples.length >= 4, `only ${examples.length} examples`);
    for (const { where, schema, example } of examples) {
      const name = schema.$ref.split("/").at(-1);
      const check = validators.get(name)!;
      assert(check(example), `${where}: ${JSON.stringify(check.errors)}`);
    }
  });

  await t.step("that documents exactly the routes the server has", () => {
    const documented = Object.entries(document.paths).map((
      [path, operations],
    ) => ({
      path,
      methods: Object.keys(operations as object).map((m) => m.toUpperCase())
        .sort(),
    }));
    const served = handler().routes.map(({ path, methods }) => ({
      path,
      methods: [...methods].sort(),
    }));
    const byPath = (a: { path: string }, b: { path: string }) =>
      a.path.localeCompare(b.path);
    assertEquals(documented.sort(byPath), served.sort(byPath));
  });
});

Deno.test("asyncApiDocument() is a valid AsyncAPI 3 document", async (t) => {
  const document: Json = asyncApiDocument({ host: "chat.example:8080" });

  await t.step("by the official schema", () => {
    assertEquals(validateAsyncApi(document), []);
  });

  await t.step("whose every $ref points at something", () => {
    assertEquals(brokenRefs(document), []);
  });

  await t.step("whose schemas compile as strict JSON Schema", () => {
    const validators = componentValidators(document, "draft-07");
    assert(validators.size >= 9, `only ${validators.size} schemas`);
  });

  await t.step("that the server receives every client frame", () => {
    assertEquals(messageNames(document, "receive"), [...CLIENT_FRAME_TYPES]);
  });

  await t.step("that the server sends every server frame", () => {
    const types = ServerFrame.options.map((schema) =>
      schema.entries.type.literal
    );
    assertEquals(messageNames(document, "send"), types);
  });

  await t.step("on the host it is given", () => {
    assertEquals(document.servers.chat, {
      host: "chat.example:8080",
      protocol: "ws",
      description: "the server that served this file",
    });
  });
});

Deno.test("createRestHandler() serves the API documents", async (t) => {
  const handleRest = handler();
  await t.step("GET /openapi.json", async () => {
    const reply = await readReply(
      await handleRest(new Request("http://x/openapi.json")),
    );
    assertEquals(reply.status, 200);
    assertEquals(reply.headers.get("content-type"), "application/json");
    assertEquals(reply.headers.get("access-control-allow-origin"), "*");
    assertEquals(reply.body, openApiDocument());
  });
  await t.step("GET /asyncapi.json, for the host it was asked on", async () => {
    for (
      const [url, host, protocol] of [
        ["http://localhost:3000/asyncapi.json", "localhost:3000", "ws"],
        ["https://chat.example/asyncapi.json", "chat.example", "wss"],
      ]
    ) {
      const reply = await readReply(await handleRest(new Request(url!)));
      assertEquals(reply.status, 200);
      assertEquals(reply.body.servers.chat.host, host);
      assertEquals(reply.body.servers.chat.protocol, protocol);
    }
  });
});

Deno.test("the JSON Schemas accept exactly what valibot accepts", async (t) => {
  const schemas = new Map([
    ...componentValidators(openApiDocument(), "draft-2020-12"),
    ...componentValidators(asyncApiDocument(), "draft-07"),
  ]);
  const long = (limit: number) => "x".repeat(limit + 1);
  const cases: [string, v.GenericSchema, unknown][] = [
    ["SendBody", SendBody, { room_id: "r", from: "f", message: "m" }],
    ["SendBody", SendBody, { room_id: "r", from: "f" }],
    ["SendBody", SendBody, { room_id: "r", from: "f", message: "m", x: 1 }],
    ["SendBody", SendBody, { room_id: "r", from: "f", message: 42 }],
    ["SendBody", SendBody, { room_id: "", from: "f", message: "m" }],
    ["SendBody", SendBody, { room_id: " \n\t", from: "f", message: "m" }],
    ["SendBody", SendBody, {
      room_id: "\u00a0\u2028",
      from: "f",
      message: "m",
    }],
    ["SendBody", SendBody, { room_id: " r ", from: "f", message: "m" }],
    ["SendBody", SendBody, { room_id: "r", from: "f", message: "💬" }],
    ["SendBody", SendBody, {
      room_id: "r",
      from: long(LIMITS.from),
      message: "m",
    }],
    ["SendBody", SendBody, {
      room_id: "r",
      from: "f",
      message: "m".repeat(LIMITS.message),
    }],
    ["ReceiveBody", ReceiveBody, { room_id: long(LIMITS.roomId) }],
    ["ReceiveBody", ReceiveBody, { room_id: null }],
    ["ClientFrame", ClientFrame, {
      type: "join-room",
      room_id: "r",
      from: "f",
    }],
    ["ClientFrame", ClientFrame, { type: "join-room", room_id: "r" }],
    ["ClientFrame", ClientFrame, { type: "leave-room", room_id: "r" }],
    ["ClientFrame", ClientFrame, {
      type: "leave-room",
      room_id: "r",
      from: "",
    }],
    ["ClientFrame", ClientFrame, { type: "shout", room_id: "r", from: "f" }],
    ["ClientFrame", ClientFrame, { room_id: "r", from: "f" }],
    ["ClientFrame", ClientFrame, {
      type: "send-message",
      room_id: "r",
      from: "f",
      message: "m",
      sent_at: 1,
    }],
    ["StoredMessage", StoredMessage, {
      room_id: "r",
      from: "f",
      message: "m",
      sent_at: 1.5,
      id: 1,
    }],
    ["StoredMessage", StoredMessage, {
      room_id: "r",
      from: "f",
      message: "m",
      sent_at: 1.5,
      id: 1.5,
    }],
    ["RoomReply", RoomReply, {
      room_id: "r",
      members: [],
      message_count: 0,
      last_message_at: null,
    }],
    ["ErrorReply", ErrorReply, { error: "e" }],
    ["ErrorReply", ErrorReply, { error: "e", status: 400 }],
    ...[
      "😀".repeat(LIMITS.from),
      "😀".repeat(LIMITS.from + 1),
      "\u200b\u200b",
      "Ann\u202e",
      "Ann\u2066",
      "Ann\u200e",
      "\u3164",
      "\u2800",
      "\ufe0f",
      "Ann\u001b",
      "Ann\u009b",
      "Ann\u007f",
      "Ann\tHall",
      "👨‍👩‍👧",
      "e\u0301",
      "\ud83d",
    ].map((from): [string, v.GenericSchema, unknown] => [
      "SendBody",
      SendBody,
      { room_id: "r", from, message: "m" },
    ]),
    ...[
      "two\nlines\tand a tab\r\n",
      "\u001b[2J",
      "\u202eabc",
      "a\u200fb",
      "\u200b \u200b",
      "m".repeat(LIMITS.message - 1) + "😀",
    ].map((message): [string, v.GenericSchema, unknown] => [
      "SendBody",
      SendBody,
      { room_id: "r", from: "f", message },
    ]),
  ];
  for (const [name, schema, input] of cases) {
    await t.step(`${name} ${JSON.stringify(input).slice(0, 60)}`, () => {
      const check = schemas.get(name)!;
      assertEquals(check(input), validate(schema, input).ok);
    });
  }
});

Deno.test("the JSON Schemas say what the server checks beyond them", async (t) => {
  const schemas = componentValidators(openApiDocument(), "draft-2020-12");
  const sendBody = schemas.get("SendBody")!;
  const fields = openApiDocument() as Json;
  const fromSchema = fields.components.schemas.SendBody.properties.from;
  // What a pattern cannot state: Unicode's combining marks, characters
  // outside the BMP. The schema accepts these; the server does not, and the
  // description says so.
  const cases: [string, string, RegExp][] = [
    ["only combining marks", "\u0301\u0302", /made only of combining marks/],
    ["a long run of marks", `a${"\u0301".repeat(9)}`, /runs of more than 8/],
    ["a tag character", "Ann\u{e0041}", /tag characters/],
  ];
  for (const [what, from, said] of cases) {
    await t.step(what, () => {
      const body = { room_id: "r", from, message: "m" };
      assertEquals(sendBody(body), true);
      assertEquals(validate(SendBody, body).ok, false);
      assert(said.test(fromSchema.description), fromSchema.description);
    });
  }
});

Deno.test("createRestHandler() replies match the documented schemas", async () => {
  const handleRest = handler();
  const replies: [v.GenericSchema, Request][] = [
    [
      StoredMessage,
      postJson("/send", { room_id: "r", from: "f", message: "m" }),
    ],
    [ReceiveReply, postJson("/receive", { room_id: "r" })],
    [ReceiveReply, postJson("/receive", { room_id: "unknown" })],
    [RoomsReply, new Request("http://x/rooms")],
    [RoomReply, new Request("http://x/rooms/r")],
    [ErrorReply, new Request("http://x/rooms/unknown")],
    [ErrorReply, postJson("/send", { room_id: "r" })],
    [ErrorReply, new Request("http://x/nowhere")],
  ];
  for (const [schema, request] of replies) {
    const reply = await readReply(await handleRest(request));
    const result = validate(schema, reply.body);
    assert(result.ok, `${request.url}: ${JSON.stringify(result)}`);
  }
});

/** The `type` of the messages of every operation with this action. */
function messageNames(document: Json, action: "send" | "receive"): string[] {
  return Object.values(document.operations as Record<string, Json>)
    .filter((operation) => operation.action === action)
    .flatMap((operation) => operation.messages)
    .map(({ $ref }) => {
      const name = $ref.split("/").at(-1);
      return document.components.messages[name].name;
    });
}

/** Every media type object with an example, in paths and responses. */
function mediaTypeExamples(document: Json) {
  const found: { where: string; schema: Json; example: unknown }[] = [];
  function visit(node: Json, where: string): void {
    if (node === null || typeof node !== "object") return;
    if ("example" in node && "schema" in node) {
      found.push({ where, schema: node.schema, example: node.example });
    }
    for (const [key, child] of Object.entries(node)) {
      visit(child, `${where}/${key}`);
    }
  }
  visit(document.paths, "#/paths");
  visit(document.components.responses, "#/components/responses");
  return found;
}
