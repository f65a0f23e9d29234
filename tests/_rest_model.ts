/**
 * What the REST API must answer any request with, by the wire contract and
 * the README: the model the REST fuzz test compares the server with.
 *
 * @module
 */
import { ok as assert } from "node:assert/strict";
import * as v from "valibot";
import { LIMITS, ReceiveBody, SendBody } from "../lib/contract.ts";
import type { Draft, StoreModel } from "./_chat_model.ts";

/**
 * The answer the model expects: `ok` is a 200 whose body, without what the
 * server picks (`id`, `sent_at`, `last_message_at`), equals `body`;
 * `refused` is a 4xx error; `any` is anything but a 5xx (a path or method
 * the model does not cover, such as `OPTIONS` or `/metrics`).
 */
export type RestExpected =
  | { outcome: "ok"; body: unknown }
  | { outcome: "refused" }
  | { outcome: "any" };

const REFUSED: RestExpected = { outcome: "refused" };
const ANY: RestExpected = { outcome: "any" };

function ok(body: unknown): RestExpected {
  return { outcome: "ok", body };
}

/** Options of {@linkcode RestModel}. */
export interface RestModelOptions {
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** Most bytes of JSON one history page holds. */
  pageMaxBytes: number;
  /** The names connected to a room (the bystanders). */
  members(roomId: string): string[];
}

/** The REST API of a server whose messages are `store`. */
export class RestModel {
  /** Every message a `POST /send` stored, in order. */
  readonly sent: Draft[] = [];
  #store: StoreModel;
  #options: RestModelOptions;

  /** Starts the model from the messages the server holds. */
  constructor(store: StoreModel, options: RestModelOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** The answer `request` must get; a stored message is recorded. */
  async expect(request: Request): Promise<RestExpected> {
    const { method } = request;
    const { pathname } = new URL(request.url);
    if (method === "GET" && pathname === "/rooms") {
      // The fuzz tests make far fewer rooms than a page holds; other query
      // parameters than limit and after are ignored.
      return ok({ rooms: this.#store.rooms(), has_more: false });
    }
    const roomPath = /^\/rooms\/([^/]+)$/.exec(pathname);
    if (method === "GET" && roomPath) return this.#roomInfo(roomPath[1]!);
    if (method === "POST" && pathname === "/send") {
      // The contract's output: names, rooms and messages in NFC.
      const body = v.safeParse(SendBody, await this.#readJson(request));
      if (!body.success) return REFUSED;
      const { room_id, from, message } = body.output;
      this.#store.append({ room_id, from, message });
      this.sent.push({ room_id, from, message });
      return ok({ room_id, from, message });
    }
    if (method === "POST" && pathname === "/receive") {
      const body = v.safeParse(ReceiveBody, await this.#readJson(request));
      if (!body.success) return REFUSED;
      const { room_id, ...paging } = body.output;
      // Paging picks messages by id, which the model does not know; the
      // history tests cover it.
      if (Object.keys(paging).length > 0) return ANY;
      const messages = this.#store.read(room_id);
      const page = messages.slice(-LIMITS.page);
      // Near the byte limit, the cut depends on the ids' and times' digits,
      // which the model does not know; the history tests cover it.
      if (pageBytes(page) > this.#options.pageMaxBytes) return ANY;
      return ok({
        room_id,
        messages: page,
        has_more: messages.length > LIMITS.page,
      });
    }
    return ANY;
  }

  #roomInfo(segment: string): RestExpected {
    let roomId;
    try {
      roomId = decodeURIComponent(segment);
    } catch {
      return REFUSED;
    }
    const parsed = v.safeParse(ReceiveBody, { room_id: roomId });
    if (!parsed.success) return REFUSED;
    roomId = parsed.output.room_id;
    const messageCount = this.#store.read(roomId).length;
    const members = this.#options.members(roomId);
    if (messageCount === 0 && members.length === 0) return REFUSED;
    return ok({ room_id: roomId, members, message_count: messageCount });
  }

  /** The JSON body of a request, or `undefined` if it must be refused. */
  async #readJson(request: Request): Promise<unknown> {
    const mediaType = request.headers.get("content-type")?.split(";")[0]
      ?.trim().toLowerCase();
    if (mediaType !== "application/json") return undefined;
    const bytes = await request.bytes();
    if (bytes.length > this.#options.maxBodyBytes) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return undefined;
    }
  }
}

/** Bytes the server's id and sent_at add to a message, at most. */
const SERVER_PICKED_BYTES = 64;

/** An upper bound of the JSON size of a page of these messages. */
function pageBytes(messages: Draft[]): number {
  const encoder = new TextEncoder();
  return messages.reduce(
    (sum, message) =>
      sum + encoder.encode(JSON.stringify(message)).length +
      SERVER_PICKED_BYTES,
    0,
  );
}

/**
 * A 200 body without what the server picks (ids and times), after checking
 * their types, for comparing with {@linkcode RestExpected}'s `body`.
 */
export function withoutServerPicked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutServerPicked);
  if (typeof value !== "object" || value === null) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key === "id" || key === "sent_at") {
      assert(typeof field === "number", `${key} must be a number`);
    } else if (key === "last_message_at") {
      assert(field === null || typeof field === "number", `${key} type`);
    } else kept[key] = withoutServerPicked(field);
  }
  return kept;
}
