import { ClientFrame, validate } from "./contract.ts";
import { errorFrame } from "./frames.ts";
import { parseJson } from "./parse_json.ts";
import type { Peer } from "./peer.ts";
import { ProtocolError } from "./protocol_error.ts";

/** One typed handler for each client frame `type`. */
export type FrameHandlers = {
  [T in ClientFrame["type"]]: (
    frame: Extract<ClientFrame, { type: T }>,
  ) => void | Promise<void>;
};

/** Options of {@linkcode createDispatcher}. */
export interface DispatcherOptions {
  /**
   * Largest accepted frame, in bytes of UTF-8. A frame over it gets an error
   * frame; one over {@linkcode FAR_OVER_FACTOR} times it closes the
   * connection with 1009 instead.
   * @default {65536}
   */
  maxFrameBytes?: number | undefined;
  /** Called with the reason of every refused frame, for the metrics. */
  onRefuse?: ((reason: string) => void) | undefined;
  /** Called with a handler's error that is not a {@linkcode ProtocolError}. */
  onUnexpectedError?: ((error: unknown, frameType: string) => void) | undefined;
}

/** How many times the size limit a frame may be before the socket closes. */
export const FAR_OVER_FACTOR = 4;

/**
 * The reason of the 1009 close for a frame far over the limit: the words of
 * Bun's WebSocket server, which refuses such a frame itself before reading
 * it (its `maxPayloadLength`), so that the close is the same on every
 * runtime.
 */
export const FAR_TOO_LARGE_REASON = "Received too big message";

/** A frame the dispatcher refuses, and why. */
interface Refusal {
  error: string;
  reason: string;
}

/**
 * Creates the function that takes every incoming frame of one connection:
 * it checks size and JSON, validates against the wire contract and calls the
 * handler of the frame's `type`, one frame after the other. Whatever goes
 * wrong, the client gets an error frame; the returned promise never rejects.
 */
export function createDispatcher(
  handlers: FrameHandlers,
  peer: Peer,
  options: DispatcherOptions = {},
): (data: unknown) => Promise<void> {
  const maxFrameBytes = options.maxFrameBytes ?? 65536;
  const onRefuse = options.onRefuse ?? (() => {});
  const onUnexpectedError = options.onUnexpectedError ?? console.error;

  function refuse({ error, reason }: Refusal): void {
    onRefuse(reason);
    peer.send(errorFrame(error));
  }

  // One frame at a time, in order: everything a frame causes (a stored
  // message's broadcast, an error frame) comes before what the next causes,
  // whatever the store's latency.
  let previous = Promise.resolve();
  return function dispatch(data: unknown): Promise<void> {
    previous = previous.then(() => handle(data));
    return previous;
  };

  async function handle(data: unknown): Promise<void> {
    const parsed = parseFrame(data, maxFrameBytes);
    if ("refusal" in parsed) {
      if (parsed.refusal.reason !== "frame_far_too_large") {
        return refuse(parsed.refusal);
      }
      // Not a client of this protocol: close, as a runtime that refuses
      // oversized frames before reading them does.
      onRefuse(parsed.refusal.reason);
      return peer.close(1009, FAR_TOO_LARGE_REASON);
    }
    const { frame } = parsed;
    const handler = handlers[frame.type] as (frame: ClientFrame) => unknown;
    try {
      await handler(frame);
    } catch (error) {
      if (error instanceof ProtocolError) {
        return refuse({ error: error.message, reason: error.reason });
      }
      onUnexpectedError(error, frame.type);
      refuse({
        error: `The server failed to handle "${frame.type}"; try again`,
        reason: "internal",
      });
    }
  }
}

/** Turns raw frame data into a valid client frame, or says what is wrong. */
function parseFrame(
  data: unknown,
  maxFrameBytes: number,
): { frame: ClientFrame } | { refusal: Refusal } {
  const binary = typeof data !== "string";
  const bytes = binary ? binaryLength(data) : utf8Length(data, maxFrameBytes);
  if (bytes > maxFrameBytes * FAR_OVER_FACTOR) {
    return {
      refusal: {
        error: `frame is larger than the limit of ${maxFrameBytes} bytes`,
        reason: "frame_far_too_large",
      },
    };
  }
  if (binary) {
    return {
      refusal: {
        error: "binary frames are not supported: send JSON as a text frame",
        reason: "binary_frame",
      },
    };
  }
  if (bytes > maxFrameBytes) {
    return {
      refusal: {
        error: `frame is larger than the limit of ${maxFrameBytes} bytes`,
        reason: "frame_too_large",
      },
    };
  }
  const json = parseJson(data);
  if (!json.ok) {
    return {
      refusal: {
        error: `frame is not valid JSON: ${json.error}`,
        reason: "invalid_json",
      },
    };
  }
  const result = validate(ClientFrame, json.value);
  if (!result.ok) {
    return { refusal: { error: result.error, reason: "invalid_frame" } };
  }
  return { frame: result.value };
}

/** The size of a binary frame: an `ArrayBuffer`, a typed array or a `Blob`. */
function binaryLength(data: unknown): number {
  if (data instanceof Blob) return data.size;
  return (data as ArrayBufferLike | ArrayBufferView).byteLength ?? 0;
}

const encoder = new TextEncoder();

/**
 * The UTF-8 length of `text`, or a lower bound when that already passes
 * `limit`. A UTF-16 unit takes 1 to 3 bytes, so most frames need no
 * encoding at all.
 */
function utf8Length(text: string, limit: number): number {
  if (text.length > limit) return text.length;
  if (text.length * 3 <= limit) return text.length;
  return encoder.encode(text).length;
}
