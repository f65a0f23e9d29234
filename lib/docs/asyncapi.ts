/**
 * The AsyncAPI 3 description of the WebSocket protocol, served at
 * `GET /asyncapi.json`. Its JSON Schemas are generated from the wire
 * contract, so they cannot drift from what the server validates.
 *
 * AsyncAPI describes the application, here the server: it `receive`s the
 * frames clients send and `send`s the frames clients receive.
 *
 * @module
 */
import type * as v from "valibot";
import {
  ClientFrame,
  ErrorEvent,
  HistoryGapEvent,
  JoinRoomEvent,
  JoinRoomFrame,
  LeaveRoomEvent,
  LeaveRoomFrame,
  LIMITS,
  ReceiveMessageEvent,
  SendMessageFrame,
  ServerFrame,
} from "../contract.ts";
import { componentSchemas, schemaRef } from "./component_schemas.ts";
import { API_VERSION } from "./openapi.ts";

/** Options of {@linkcode asyncApiDocument}. */
export interface AsyncApiOptions {
  /**
   * `host:port` that clients connect to.
   * @default {"localhost:3000"}
   */
  host?: string | undefined;
  /**
   * Whether clients connect with `wss:` (TLS) rather than `ws:`.
   * @default {false}
   */
  secure?: boolean | undefined;
}

/** A frame of the protocol, told apart by the literal `type` field. */
type FrameSchema = v.GenericSchema & {
  entries: { type: v.LiteralSchema<string, undefined> };
};

interface FrameDoc {
  schema: FrameSchema;
  summary: string;
}

/** The frames a client sends, which the server receives. */
const CLIENT_FRAMES: Record<string, FrameDoc> = {
  JoinRoomFrame: {
    schema: JoinRoomFrame,
    summary:
      "Join a room under the name `from`: the room's recent messages arrive first (as `receive-message`), then every member, the joiner included, gets the `join-room` frame.",
  },
  LeaveRoomFrame: {
    schema: LeaveRoomFrame,
    summary:
      "Stop receiving a room's frames; the other members and the leaver get the `leave-room` frame.",
  },
  SendMessageFrame: {
    schema: SendMessageFrame,
    summary:
      "Store a message in a room this connection joined; every member, the sender included, gets it as `receive-message`.",
  },
};

/** The frames the server sends, which a client receives. */
const SERVER_FRAMES: Record<string, FrameDoc> = {
  ReceiveMessageEvent: {
    schema: ReceiveMessageEvent,
    summary:
      "A message in a room this connection joined; also sent for the history on join, oldest first.",
  },
  JoinRoomEvent: {
    schema: JoinRoomEvent,
    summary: "Someone joined a room this connection is in (or it did).",
  },
  LeaveRoomEvent: {
    schema: LeaveRoomEvent,
    summary:
      "Someone left a room this connection is in, or closed their connection (or this connection left).",
  },
  HistoryGapEvent: {
    schema: HistoryGapEvent,
    summary:
      "Sent before the replay of a `join-room` with `since` that missed more than one page (1000 messages): the messages with ids between `after` and `before` are not replayed; read them with `POST /receive`.",
  },
  ErrorEvent: {
    schema: ErrorEvent,
    summary:
      "The last frame was refused, with the reason; the connection stays open and nothing else happened.",
  },
};

const DESCRIPTION = `\
The WebSocket half of a real-time chat server. The REST half, on the same port,
is described by \`/openapi.json\`.

Open a WebSocket on any path of the server. Every frame, both ways, is a JSON
object in a text frame, told apart by its \`type\`. Every refused frame is
answered with one \`error\` frame and the connection stays open. One connection
may join many rooms. Limits: \`room_id\` ${LIMITS.roomId}, \`from\` ${LIMITS.from}
and \`message\` ${LIMITS.message} characters, frames 64 KiB unless the server
was started with \`--max-frame-bytes\`.`;

/** The message object of one frame, named after its `type`. */
function message(name: string, frame: FrameDoc) {
  return {
    name: frame.schema.entries.type.literal,
    title: frame.schema.entries.type.literal,
    summary: frame.summary,
    payload: schemaRef(name),
  };
}

/** One operation per frame: the server `receive`s or `send`s it. */
function operations(
  action: "receive" | "send",
  frames: Record<string, FrameDoc>,
) {
  return Object.fromEntries(
    Object.entries(frames).map(([name, frame]) => [
      `${action}${name}`,
      {
        action,
        channel: { $ref: "#/channels/chat" },
        summary: frame.summary,
        messages: [{ $ref: `#/channels/chat/messages/${name}` }],
      },
    ]),
  );
}

/** Builds the AsyncAPI 3 document of the WebSocket protocol. */
export function asyncApiDocument(
  options: AsyncApiOptions = {},
): Record<string, unknown> {
  const frames = { ...CLIENT_FRAMES, ...SERVER_FRAMES };
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Chat server: WebSocket protocol",
      version: API_VERSION,
      description: DESCRIPTION,
    },
    servers: {
      chat: {
        host: options.host ?? "localhost:3000",
        protocol: options.secure ? "wss" : "ws",
        description: "the server that served this file",
      },
    },
    defaultContentType: "application/json",
    channels: {
      chat: {
        address: "/",
        title: "Chat",
        description:
          "One WebSocket per client; any path works. A client joins rooms on it.",
        messages: Object.fromEntries(
          Object.keys(frames).map((name) => [
            name,
            { $ref: `#/components/messages/${name}` },
          ]),
        ),
      },
    },
    operations: {
      ...operations("receive", CLIENT_FRAMES),
      ...operations("send", SERVER_FRAMES),
    },
    components: {
      schemas: componentSchemas({
        ClientFrame,
        ServerFrame,
        ...Object.fromEntries(
          Object.entries(frames).map(([name, frame]) => [name, frame.schema]),
        ),
      }, "draft-07"),
      messages: Object.fromEntries(
        Object.entries(frames).map(([name, frame]) => [
          name,
          message(name, frame),
        ]),
      ),
    },
  };
}
