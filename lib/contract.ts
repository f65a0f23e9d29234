/**
 * The wire contract: one valibot schema for every WebSocket frame and every
 * REST request and response body. Handlers take their types from here, and
 * the API description (`lib/docs/`) its JSON Schemas, so what is validated,
 * what is typed and what is documented can never drift apart.
 *
 * @module
 */
import * as v from "valibot";
import { textField } from "./text_field.ts";

/**
 * Length limits of the text fields, in characters: Unicode code points, as
 * JSON Schema's `maxLength` counts them (see `lib/text_field.ts`).
 */
export const LIMITS = {
  /** Longest accepted `room_id`. */
  roomId: 100,
  /** Longest accepted `from` (a person's display name). */
  from: 50,
  /** Longest accepted `message`. */
  message: 5000,
  /** Most messages one history page may ask for (`limit`). */
  page: 1000,
  /** Most rooms one `GET /rooms` page may ask for (`limit`). */
  roomsPage: 1000,
} as const;

/** An optional message id: a whole number, 0 meaning "before the first". */
function messageId(name: string) {
  return v.optional(
    v.pipe(
      v.number(`${name} must be a message id (a number)`),
      v.safeInteger(`${name} must be a whole number`),
      v.minValue(0, `${name} must not be negative`),
    ),
  );
}

const roomId = textField("room_id", "identifier", LIMITS.roomId);
const from = textField("from", "identifier", LIMITS.from);
const message = textField("message", "message", LIMITS.message);

/** Names the missing or unexpected key of an object issue. */
function keyMessage(issue: v.BaseIssue<unknown>): string {
  const key = String(issue.path?.at(-1)?.key ?? "");
  if (issue.expected === "never") {
    return `unknown field "${key}"`;
  }
  return `${key} not provided`;
}

/** An object that rejects missing and unknown keys with a readable message. */
function strictObject<const E extends v.ObjectEntries>(entries: E) {
  return v.strictObject(entries, keyMessage);
}

/**
 * `join-room`: subscribe this connection to a room under the name `from`.
 * With `since` (the last message id the client saw) the joiner receives the
 * messages after it instead of the recent history.
 */
export const JoinRoomFrame = strictObject({
  type: v.literal("join-room"),
  room_id: roomId,
  from,
  since: messageId("since"),
});

/** `leave-room`: stop receiving a room's frames (`from` is optional). */
export const LeaveRoomFrame = strictObject({
  type: v.literal("leave-room"),
  room_id: roomId,
  from: v.optional(from),
});

/** `send-message`: store a message and deliver it to every room member. */
export const SendMessageFrame = strictObject({
  type: v.literal("send-message"),
  room_id: roomId,
  from,
  message,
});

/** The `type` of every frame a client may send. */
export const CLIENT_FRAME_TYPES = [
  "join-room",
  "leave-room",
  "send-message",
] as const;

/** Every frame a client may send, told apart by its `type`. */
export const ClientFrame = v.variant(
  "type",
  [JoinRoomFrame, LeaveRoomFrame, SendMessageFrame],
  (issue) =>
    issue.received === "undefined"
      ? "type not provided"
      : `type must be one of ${
        CLIENT_FRAME_TYPES.map((type) => `"${type}"`).join(", ")
      }, not ${issue.received}`,
);

/** Body of `POST /send`. */
export const SendBody = strictObject({ room_id: roomId, from, message });

/**
 * Body of `POST /receive`: a room, and optionally a page of it. Without
 * `after` the page holds the newest messages (before `before`); with it,
 * the oldest after `after`. `after` must be less than `before`, which the
 * route checks.
 */
export const ReceiveBody = strictObject({
  room_id: roomId,
  limit: v.optional(
    v.pipe(
      v.number("limit must be a number"),
      v.integer("limit must be a whole number"),
      v.minValue(1, `limit must be from 1 to ${LIMITS.page}`),
      v.maxValue(LIMITS.page, `limit must be from 1 to ${LIMITS.page}`),
    ),
  ),
  before: messageId("before"),
  after: messageId("after"),
});

/** A message as stored and delivered; `id` strictly increases. */
export const StoredMessage = v.strictObject({
  room_id: v.string(),
  from: v.string(),
  message: v.string(),
  sent_at: v.pipe(
    v.number(),
    v.description("Unix time in seconds, with microsecond digits"),
  ),
  id: v.pipe(
    v.number(),
    v.integer(),
    v.description("Strictly increases with every message on the server"),
  ),
});

/** Server frame: a message was sent to a room the connection joined. */
export const ReceiveMessageEvent = v.strictObject({
  type: v.literal("receive-message"),
  ...StoredMessage.entries,
});

/** Server frame: someone joined a room (the joiner gets it too). */
export const JoinRoomEvent = v.strictObject({
  type: v.literal("join-room"),
  room_id: v.string(),
  from: v.string(),
});

/** Server frame: someone left a room or disconnected. */
export const LeaveRoomEvent = v.strictObject({
  type: v.literal("leave-room"),
  room_id: v.string(),
  from: v.string(),
});

/**
 * Server frame: a `join-room` with `since` missed more messages than one
 * page holds. The replay that follows holds the newest page; the messages
 * with ids between `after` and `before` were left out (read them with
 * `POST /receive` and the same `after` and `before`).
 */
export const HistoryGapEvent = v.strictObject({
  type: v.literal("history-gap"),
  room_id: v.string(),
  after: v.pipe(
    v.number(),
    v.integer(),
    v.description("The `since` of the join: left out are the ids above it"),
  ),
  before: v.pipe(
    v.number(),
    v.integer(),
    v.description(
      "The id of the first replayed message: left out are those below it",
    ),
  ),
});

/** Server frame: the client's last frame was rejected; the socket stays open. */
export const ErrorEvent = v.strictObject({
  type: v.literal("error"),
  error: v.string(),
});

/** Every frame the server sends. */
export const ServerFrame = v.variant("type", [
  ReceiveMessageEvent,
  JoinRoomEvent,
  LeaveRoomEvent,
  HistoryGapEvent,
  ErrorEvent,
]);

/**
 * The query of `GET /rooms`, its values as numbers where they are numbers:
 * a page of the rooms that hold messages. Other parameters are ignored.
 */
export const RoomsQuery = v.object({
  limit: v.optional(
    v.pipe(
      v.number("limit must be a number"),
      v.integer("limit must be a whole number"),
      v.minValue(1, `limit must be from 1 to ${LIMITS.roomsPage}`),
      v.maxValue(
        LIMITS.roomsPage,
        `limit must be from 1 to ${LIMITS.roomsPage}`,
      ),
    ),
  ),
  after: v.optional(
    v.pipe(
      v.string(),
      v.regex(
        /^\d{1,16}$/,
        "after must be the next of an earlier GET /rooms page",
      ),
      v.description(
        "The `next` of the page before: an opaque cursor, to pass back as it is",
      ),
    ),
  ),
});

/**
 * Reply of `GET /rooms`: a page of the rooms that hold messages, in the
 * order of their first message. `next` is there when `has_more` is true.
 */
export const RoomsReply = v.strictObject({
  rooms: v.array(v.string()),
  has_more: v.boolean(),
  next: v.optional(
    v.pipe(
      v.string(),
      v.description("Pass it as `after` to get the next page"),
    ),
  ),
});

/** Reply of `POST /receive`: a page of a room's messages, oldest first. */
export const ReceiveReply = v.strictObject({
  room_id: v.string(),
  messages: v.array(StoredMessage),
  /** Whether more messages lie beyond this page (see `POST /receive`). */
  has_more: v.boolean(),
});

/** Reply of `GET /rooms/{room_id}`: who is connected, how many messages. */
export const RoomReply = v.strictObject({
  room_id: v.string(),
  members: v.array(v.string()),
  message_count: v.pipe(v.number(), v.integer()),
  last_message_at: v.nullable(v.number()),
});

/** Body of every REST error response. */
export const ErrorReply = v.strictObject({ error: v.string() });

/** Reply of `GET /healthz`: the process is up. */
export const HealthReply = v.strictObject({ status: v.literal("ok") });

/** Reply of `GET /readyz` when the server takes traffic. */
export const ReadyReply = v.strictObject({ status: v.literal("ready") });

/** A message as stored and delivered. */
export type StoredMessage = v.InferOutput<typeof StoredMessage>;
/** Any frame the server sends. */
export type ServerFrame = v.InferOutput<typeof ServerFrame>;
/** A frame sent by a client, after validation. */
export type ClientFrame = v.InferOutput<typeof ClientFrame>;
/** A `join-room` frame sent by a client. */
export type JoinRoomFrame = v.InferOutput<typeof JoinRoomFrame>;
/** A `leave-room` frame sent by a client. */
export type LeaveRoomFrame = v.InferOutput<typeof LeaveRoomFrame>;
/** A `send-message` frame sent by a client. */
export type SendMessageFrame = v.InferOutput<typeof SendMessageFrame>;
/** The body of `POST /send`. */
export type SendBody = v.InferOutput<typeof SendBody>;
/** The body of `POST /receive`. */
export type ReceiveBody = v.InferOutput<typeof ReceiveBody>;
/** The query of `GET /rooms`. */
export type RoomsQuery = v.InferOutput<typeof RoomsQuery>;

/**
 * Validates untrusted input against a schema.
 *
 * @returns the typed value, or the message of the first problem found
 */
export function validate<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): { ok: true; value: v.InferOutput<S> } | { ok: false; error: string } {
  const kind = jsonKind(input);
  if (kind !== "an object") {
    return { ok: false, error: `expected a JSON object, not ${kind}` };
  }
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return { ok: true, value: result.output };
  return { ok: false, error: result.issues[0].message };
}

/** Names the kind of a parsed JSON value, for error messages. */
function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}
