/**
 * The OpenAPI 3.1 description of the REST API, served at `GET /openapi.json`.
 * Its JSON Schemas are generated from the wire contract, so they cannot drift
 * from what the server validates.
 *
 * @module
 */
import {
  ErrorReply,
  HealthReply,
  LIMITS,
  ReadyReply,
  ReceiveBody,
  ReceiveReply,
  RoomReply,
  RoomsQuery,
  RoomsReply,
  SendBody,
  StoredMessage,
} from "../contract.ts";
import { componentSchemas, schemaRef } from "./component_schemas.ts";

/** The version of the chat API that both documents describe. */
export const API_VERSION = "1.0.0";

const DESCRIPTION = `\
The REST half of a real-time chat server. The WebSocket half, on the same port,
is described by \`/asyncapi.json\`.

Requests with a body send JSON with \`Content-Type: application/json\`; every
answer is JSON, errors included (\`{"error": "..."}\`). An unknown path answers
404, a known path with the wrong method 405 with an \`Allow\` header. \`HEAD\` is
answered wherever \`GET\` is, as \`GET\` without the body. Any origin
may call the API (CORS), unless the server was started with
\`--allowed-origins\`. Limits: \`room_id\` ${LIMITS.roomId}, \`from\`
${LIMITS.from} and \`message\` ${LIMITS.message} characters, request bodies
64 KiB unless the server was started with \`--max-body-bytes\`.`;

/** A JSON body of a request or response. */
function json(schema: string, example?: unknown) {
  return {
    "application/json": {
      schema: schemaRef(schema),
      ...(example === undefined ? {} : { example }),
    },
  };
}

/** A reusable error response with an example message. */
function errorResponse(description: string, example: string) {
  return { description, content: json("ErrorReply", { error: example }) };
}

/** A 429 answer, with its `Retry-After` header. */
function rateLimited(description: string, example: string) {
  return {
    description,
    headers: {
      "Retry-After": {
        description: "Seconds to wait before asking again",
        schema: { type: "integer", minimum: 1 },
      },
    },
    content: json("ErrorReply", { error: example }),
  };
}

/** The responses every endpoint that reads a JSON body may give. */
const BODY_ERRORS = {
  400: { $ref: "#/components/responses/BadRequest" },
  408: { $ref: "#/components/responses/RequestTimeout" },
  413: { $ref: "#/components/responses/PayloadTooLarge" },
  415: { $ref: "#/components/responses/UnsupportedMediaType" },
};

/** A `GET` that answers with a static file of the given media type. */
function fileOperation(summary: string, mediaType: string) {
  return {
    get: {
      tags: ["page"],
      summary,
      responses: {
        200: {
          description: summary,
          content: { [mediaType]: { schema: { type: "string" } } },
        },
      },
    },
  };
}

/** A `GET` that answers with one of the API description documents. */
function documentOperation(summary: string) {
  return {
    get: {
      tags: ["docs"],
      summary,
      responses: {
        200: {
          description: summary,
          content: { "application/json": { schema: { type: "object" } } },
        },
      },
    },
  };
}

/** Builds the OpenAPI 3.1 document of the REST API. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "Chat server: REST API",
      version: API_VERSION,
      description: DESCRIPTION,
    },
    servers: [{ url: "/", description: "the server that served this file" }],
    tags: [
      { name: "messages", description: "Send and read messages" },
      { name: "rooms", description: "Which rooms exist and who is in them" },
      { name: "page", description: "The browser chat client" },
      { name: "docs", description: "Machine-readable API descriptions" },
      { name: "operations", description: "Health, readiness and metrics" },
    ],
    paths: {
      "/send": {
        post: {
          tags: ["messages"],
          operationId: "sendMessage",
          summary: "Store a message and deliver it live to the room",
          description:
            "The room's WebSocket members receive it as a `receive-message` frame.",
          requestBody: { required: true, content: json("SendBody") },
          responses: {
            200: {
              description: "The message as stored",
              content: json("StoredMessage"),
            },
            ...BODY_ERRORS,
            503: errorResponse(
              "The store cannot write now (locked by another program, disk full); not stored. Comes with `Retry-After: 1`",
              "the message store is busy: another program is writing to the database; try again in a moment",
            ),
            429: rateLimited(
              "Too many messages from this IP address (see `--rate-limit`); not stored",
              "rate limited: too many messages from 127.0.0.1; retry in 1 s",
            ),
          },
        },
      },
      "/receive": {
        post: {
          tags: ["messages"],
          operationId: "receiveMessages",
          summary: "Every message of a room, oldest first",
          description:
            "An unknown room has no messages: `messages` is `[]`. A page holds " +
            "at most 1000 messages (`--page-max`) and 1 MiB of JSON " +
            "(`--page-max-bytes`); `has_more` says whether more lie beyond it. " +
            "A client that has not read the answer within 30 seconds " +
            "(`--write-timeout`) has its connection closed.",
          requestBody: { required: true, content: json("ReceiveBody") },
          responses: {
            200: {
              description: "The room's messages",
              content: json("ReceiveReply"),
            },
            ...BODY_ERRORS,
            429: rateLimited(
              "Too many history reads from this IP address (see `--history-rate-limit`)",
              "rate limited: too many history reads from 127.0.0.1; retry in 1 s",
            ),
          },
        },
      },
      "/rooms": {
        get: {
          tags: ["rooms"],
          operationId: "listRooms",
          summary: "The rooms that hold messages, a page at a time",
          description:
            `In the order of each room's first message, at most \`limit\` ` +
            `(${LIMITS.roomsPage} unless fewer are asked for). When more ` +
            "rooms follow, `has_more` is true and `next` is the cursor to pass " +
            "as `after` for the next page; a small server's rooms fit in one " +
            "page. Other query parameters are ignored.",
          parameters: [
            {
              name: "limit",
              in: "query",
              required: false,
              description: `At most this many rooms, 1 to ${LIMITS.roomsPage}`,
              schema: schemaRef("RoomsLimit"),
            },
            {
              name: "after",
              in: "query",
              required: false,
              description: "The `next` of the page before",
              schema: schemaRef("RoomsCursor"),
            },
          ],
          responses: {
            200: {
              description: "A page of the rooms",
              content: json("RoomsReply", {
                rooms: ["general", "Will Test Room"],
                has_more: true,
                next: "2",
              }),
            },
            400: errorResponse(
              "A query parameter has a bad value",
              `limit must be from 1 to ${LIMITS.roomsPage}`,
            ),
          },
        },
      },
      "/rooms/{room_id}": {
        get: {
          tags: ["rooms"],
          operationId: "describeRoom",
          summary: "Who is connected to a room and how many messages it holds",
          parameters: [{
            name: "room_id",
            in: "path",
            required: true,
            description: "The room, URL-encoded (`Will%20Test%20Room`)",
            schema: schemaRef("RoomId"),
          }],
          responses: {
            200: {
              description:
                "The room; `members` lists each connected name once, in the order they joined",
              content: json("RoomReply"),
            },
            400: { $ref: "#/components/responses/BadRequest" },
            404: errorResponse(
              "The room has neither members nor messages",
              'Room "Nowhere" not found: it has no members and no messages',
            ),
          },
        },
      },
      "/": fileOperation("The chat page", "text/html"),
      "/style.css": fileOperation("The chat page's style sheet", "text/css"),
      "/app.js": fileOperation("The chat page's script", "text/javascript"),
      "/openapi.json": documentOperation("This document"),
      "/healthz": {
        get: {
          tags: ["operations"],
          operationId: "health",
          summary: "Whether the process is up",
          responses: {
            200: {
              description: "It is",
              content: json("HealthReply", { status: "ok" }),
            },
          },
        },
      },
      "/readyz": {
        get: {
          tags: ["operations"],
          operationId: "readiness",
          summary:
            "Whether the server takes traffic: the store can write and it is not shutting down",
          responses: {
            200: {
              description: "Ready",
              content: json("ReadyReply", { status: "ready" }),
            },
            503: errorResponse(
              "Shutting down, or the store cannot write",
              "server shutting down",
            ),
          },
        },
      },
      "/metrics": {
        get: {
          tags: ["operations"],
          operationId: "metrics",
          summary: "Counters and gauges in the Prometheus text format",
          description:
            "Public unless the server was started with `--metrics-token`: then it asks for `Authorization: Bearer <token>`.",
          responses: {
            200: {
              description: "Prometheus text exposition format 0.0.4",
              content: { "text/plain": { schema: { type: "string" } } },
            },
            401: errorResponse(
              "A token is set and the request does not carry it",
              "GET /metrics needs the header Authorization: Bearer <token>, with the server's --metrics-token",
            ),
          },
        },
      },
      "/asyncapi.json": documentOperation(
        "The AsyncAPI 3 document of the WebSocket protocol",
      ),
    },
    components: {
      schemas: componentSchemas({
        RoomId: ReceiveBody.entries.room_id,
        RoomsLimit: RoomsQuery.entries.limit,
        RoomsCursor: RoomsQuery.entries.after,
        SendBody,
        ReceiveBody,
        StoredMessage,
        ReceiveReply,
        RoomsReply,
        RoomReply,
        ErrorReply,
        HealthReply,
        ReadyReply,
      }, "draft-2020-12"),
      responses: {
        BadRequest: errorResponse(
          "The body is not JSON, or a field is missing, empty, blank, too long, of the wrong type or unknown",
          "room_id not provided",
        ),
        RequestTimeout: errorResponse(
          "The body did not arrive in time (`--body-timeout`); the connection is closed",
          "request body did not arrive within 10 s",
        ),
        PayloadTooLarge: errorResponse(
          "The body is over the size limit",
          "request body is larger than the limit of 65536 bytes",
        ),
        UnsupportedMediaType: errorResponse(
          "The body is not declared as JSON",
          'Content-Type must be application/json: add the header "Content-Type: application/json"',
        ),
      },
    },
  };
}
