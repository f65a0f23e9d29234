import { ClientFrame, validate } from "./contract.ts";
import { errorFrame } from "./frames.ts";
import { parseJson } from "./parse_json.ts";
import type { Peer } from "./peer.ts";
import { ProtocolError } from "./protocol_error.ts";

/** One typed handler for each client frame `type`. */
export type FrameHandlers = {
  [T in ClientFrame["type"]]: (
    frame: Extract<ClientFrame, { type: T }>,
  ) => unknown;
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
 * handler of the frame's `type`, in the order the frames came. Whatever
 * goes wrong, the client gets an error frame; the returned promise never
 * rejects.
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

  // A connection's frames take effect in the order they came: whatever a
  // frame causes (a broadcast, an error frame) comes before what the next
  // one causes, however long the store takes. So a frame starts once the
  // frames before it are done, except that a `send-message` starts as soon
  // as the one before it was accepted: the store keeps their order, and a
  // client's burst can share one transaction. That is why the send handler
  // must throw a refusal at once, not after an `await`.
  let allDone: Promise<unknown> = Promise.resolve();
  let sendsMayStart: Promise<unknown> = Promise.resolve();

  return function dispatch(data: unknown): Promise<void> {
    const parsed = parseFrame(data, maxFrameBytes);
    const before = allDone;
    let done: Promise<void>;
    if ("frame" in parsed && parsed.frame.type === "send-message") {
      const { frame } = parsed;
      const accepted = Promise.withResolvers<void>();
      done = sendsMayStart.then(async () => {
        let stored;
        try {
          stored = handlers["send-message"](frame);
        } catch (error) {
          await before;
          refuse(refusalFor(error, frame.type));
          return;
        } finally {
          accepted.resolve();
        }
        try {
          await stored;
        } catch (error) {
          refuse(refusalFor(error, frame.type));
        }
      });
      sendsMayStart = accepted.promise;
      allDone = Promise.all([before, done]);
    } else {
      done = before.then(async () => {
        const refusal = "frame" in parsed
          ? await run(parsed.frame)
          : parsed.refusal;
        if (refusal?.reason === "frame_far_too_large") {
          // Not a client of this protocol: close, as a runtime that
          // refuses oversized frames before reading them does.
          onRefuse(refusal.reason);
          peer.close(1009, FAR_TOO_LARGE_REASON);
        } else if (refusal) refuse(refusal);
      });
      allDone = sendsMayStart = done;
    }
    return done;
  };

  /** Runs a frame's handler; what went wrong, if anything, as a refusal. */
  async function run(frame: ClientFrame): Promise<Refusal | undefined> {
    const handler = handlers[frame.type] as (frame: ClientFrame) => unknown;
    try {
      await handler(frame);
      return undefined;
    } catch (error) {
      return refusalFor(error, frame.type);
    }
  }

  /** The refusal a handler's error becomes; a bug is logged, not shown. */
  function refusalFor(error: unknown, frameType: string): Refusal {
    if (error instanceof ProtocolError) {
      return { error: error.message, reason: error.reason };
    }
    onUnexpectedError(error, frameType);
    return {
      error: `The server failed to handle "${frameType}"; try again`,
      reason: "internal",
    };
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
