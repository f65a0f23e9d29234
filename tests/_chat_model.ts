/**
 * A model of what the chat server must do with any input, built from the
 * wire contract alone: a frame or body the contract accepts has its effect,
 * anything else gets an error and changes nothing. The fuzz tests run the
 * real server and this model side by side and compare.
 *
 * @module
 */
import * as v from "valibot";
import { ClientFrame } from "../lib/contract.ts";

/** A stored message, without the `id` and `sent_at` the server picks. */
export interface Draft {
  room_id: string;
  from: string;
  message: string;
}

/**
 * A frame the server sends, reduced to what the model can predict: no `id`
 * or `sent_at`, and not the wording of an error.
 */
export type Expected =
  | { type: "error" }
  | { type: "join-room" | "leave-room"; room_id: string; from: string }
  | ({ type: "receive-message" } & Draft);

const ERROR: Expected = { type: "error" };

/** Reduces a frame the server sent to what {@linkcode Expected} keeps. */
// deno-lint-ignore no-explicit-any
export function summarize(frame: Record<string, any>): Expected {
  const { type, room_id, from, message } = frame;
  if (type === "error") return ERROR;
  if (type === "receive-message") return { type, room_id, from, message };
  return { type, room_id, from };
}

/** Where {@linkcode StoreModel.of} reads a store: a `MessageStore`, or HTTP. */
export interface StoreReader {
  rooms(): Promise<string[]>;
  read(roomId: string): Promise<{ messages: Draft[] }>;
}

/** The messages a store should hold, room by room in order of creation. */
export class StoreModel {
  #rooms = new Map<string, Draft[]>();

  /** Reads every message of a real store, to start a model from. */
  static async of(store: StoreReader): Promise<StoreModel> {
    const model = new StoreModel();
    for (const roomId of await store.rooms()) {
      const { messages } = await store.read(roomId);
      for (const { room_id, from, message } of messages) {
        model.append({ room_id, from, message });
      }
    }
    return model;
  }

  /** Adds a message the server must have stored. */
  append(draft: Draft): void {
    const messages = this.#rooms.get(draft.room_id);
    if (messages) messages.push(draft);
    else this.#rooms.set(draft.room_id, [draft]);
  }

  /** A room's messages, oldest first. */
  read(roomId: string): Draft[] {
    return [...this.#rooms.get(roomId) ?? []];
  }

  /** Every room holding messages, in the order of its first message. */
  rooms(): string[] {
    return [...this.#rooms.keys()];
  }

  /** Everything, for comparing two models with one `deepStrictEqual`. */
  toJSON(): [string, Draft[]][] {
    return [...this.#rooms];
  }
}

/** Options of {@linkcode ConnectionModel}. */
export interface ConnectionModelOptions {
  /** Largest accepted frame, in bytes of UTF-8. */
  maxFrameBytes: number;
  /** How many recent messages a joiner receives. */
  joinHistory: number;
}

const encoder = new TextEncoder();

/**
 * What one WebSocket connection should see, frame by frame. Every frame the
 * server broadcasts to a room is also recorded in {@linkcode broadcasts},
 * so the test knows what each bystander should receive.
 *
 * The model leaves out the limit on rooms per connection: the fuzz batches
 * are far too short to reach it.
 */
export class ConnectionModel {
  /** Frames every member of their room receives, in order. */
  readonly broadcasts: (Expected & { room_id: string })[] = [];
  #store: StoreModel;
  #options: ConnectionModelOptions;
  /** Room id to the name this connection joined it under. */
  #joined = new Map<string, string>();

  /** Starts the model of a new connection to a server holding `store`. */
  constructor(store: StoreModel, options: ConnectionModelOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** The frames the server should answer `data` with, in order. */
  receive(data: string | Uint8Array): Expected[] {
    const frame = typeof data === "string" ? this.#parse(data) : undefined;
    if (!frame) return [ERROR];
    const { type, room_id } = frame;
    const name = this.#joined.get(room_id);
    switch (type) {
      case "join-room": {
        if (name !== undefined) return [ERROR];
        this.#joined.set(room_id, frame.from);
        const messages = this.#store.read(room_id);
        const history = messages
          .slice(Math.max(0, messages.length - this.#options.joinHistory))
          .map((draft): Expected => ({ type: "receive-message", ...draft }));
        return [
          ...history,
          this.#broadcast({ type, room_id, from: frame.from }),
        ];
      }
      case "leave-room": {
        if (name === undefined) return [ERROR];
        this.#joined.delete(room_id);
        return [this.#broadcast({ type, room_id, from: name })];
      }
      case "send-message": {
        if (name === undefined) return [ERROR];
        const draft = { room_id, from: frame.from, message: frame.message };
        this.#store.append(draft);
        return [this.#broadcast({ type: "receive-message", ...draft })];
      }
    }
  }

  /** The connection closed: each room it was in hears it leave. */
  close(): void {
    for (const [room_id, from] of this.#joined) {
      this.#broadcast({ type: "leave-room", room_id, from });
    }
    this.#joined.clear();
  }

  #broadcast(frame: Expected & { room_id: string }): Expected {
    this.broadcasts.push(frame);
    return frame;
  }

  /** The client frame in `data`, if the contract accepts it. */
  #parse(data: string): ClientFrame | undefined {
    // What arrives is UTF-8, in which a lone surrogate became U+FFFD.
    const bytes = encoder.encode(data);
    if (bytes.length > this.#options.maxFrameBytes) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(data.toWellFormed());
    } catch {
      return undefined;
    }
    const result = v.safeParse(ClientFrame, json);
    return result.success ? result.output : undefined;
  }
}
