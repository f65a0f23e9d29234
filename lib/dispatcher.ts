import { ClientFrame, validate } from "./contract.ts";
import { errorFrame } from "./frames.ts";
import { parseJson } from "./parse_json.ts";
import { ProtocolError } from "./protocol_error.ts";
import { utf8Length } from "./utf8_length.ts";

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
  /** Whether frames are still handled: `false` drops every frame not yet run. */
  isOpen(): boolean;
  /**
   * Spends one frame's budget as it arrives, before it is even read,
   * throwing a {@linkcode ProtocolError} for a frame over it: a frame
   * refused this way costs the server no parsing.
   */
  spend?: (() => void) | undefined;
  /**
   * Decides whether a valid frame may take effect, frame by frame in the
   * order they came, throwing a {@linkcode ProtocolError} if not. It may
   * wait (for a quota kept in the store, say): no later frame starts
   * before it has decided.
   */
  admit?: ((frame: ClientFrame) => void | Promise<void>) | undefined;
  /** Sends the client a frame (an error frame). */
  reply(text: string): void;
  /** Closes the connection (1009, for a frame far over the size limit). */
  close(code: number, reason: string): void;
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

/** How a frame started: its handler runs, or it was refused. */
type Start = { running: Promise<unknown> } | { refusal: Refusal };

const settled: Promise<unknown> = Promise.resolve();

/**
 * Creates the function that takes every incoming frame of one connection:
 * it spends the frame's budget, checks size and JSON, validates against the
 * wire contract, admits the frame and calls the handler of its `type`.
 * Whatever goes wrong, the client gets an error frame; the returned promise
 * never rejects.
 *
 * A connection's frames take effect in the order they came: whatever a
 * frame causes (a broadcast, an error frame) comes before what the next one
 * causes, however long the store or the budget takes. So a frame starts
 * once the frames before it are done, except that a `send-message` starts
 * as soon as the one before it has started: the store keeps their order,
 * and a client's burst can share one transaction. A refusal, decided at
 * once or after a wait, is answered after the frames before it took effect,
 * and before any later frame starts.
 */
export function createDispatcher(
  handlers: FrameHandlers,
  options: DispatcherOptions,
): (data: unknown) => Promise<void> {
  const maxFrameBytes = options.maxFrameBytes ?? 65536;
  const { isOpen, spend, admit, reply, close } = options;
  const onRefuse = options.onRefuse ?? (() => {});
  const onUnexpectedError = options.onUnexpectedError ?? console.error;

  /** Settles once every frame so far has taken effect. */
  let allDone = settled;
  /** Settles once every frame so far has started (or been answered). */
  let allStarted = settled;

  return function dispatch(data: unknown): Promise<void> {
    if (!isOpen()) return settled as Promise<void>;
    let parsed: ParsedFrame;
    try {
      spend?.();
      parsed = parseFrame(data, maxFrameBytes);
    } catch (error) {
      parsed = { refusal: refusalFor(error, "frame") };
    }
    const pipelined = "frame" in parsed &&
      parsed.frame.type === "send-message";
    const before = allDone;
    const started = (pipelined ? allStarted : before).then(() => start(parsed));
    const done = started.then(async (start) => {
      if (!start) return;
      let refusal = "refusal" in start ? start.refusal : undefined;
      if ("running" in start) {
        try {
          await start.running;
        } catch (error) {
          refusal = refusalFor(error, frameType(parsed));
        }
      }
      if (!refusal) return;
      await before;
      if (isOpen()) answer(refusal);
    });
    allStarted = pipelined
      ? started.then((start) => start && "refusal" in start ? done : undefined)
      : done;
    allDone = pipelined ? Promise.all([before, done]) : done;
    return done;
  };

  /** Admits a frame and starts its handler; `undefined` once closed. */
  async function start(
    parsed: ParsedFrame,
  ): Promise<Start | undefined> {
    if (!isOpen()) return undefined;
    if ("refusal" in parsed) return parsed;
    const { frame } = parsed;
    try {
      const admission = admit?.(frame);
      if (admission) await admission;
      if (!isOpen()) return undefined;
      const handler = handlers[frame.type] as (frame: ClientFrame) => unknown;
      return { running: Promise.resolve(handler(frame)) };
    } catch (error) {
      return { refusal: refusalFor(error, frameType(parsed)) };
    }
  }

  function answer(refusal: Refusal): void {
    onRefuse(refusal.reason);
    // Not a client of this protocol: close, as a runtime that refuses
    // oversized frames before reading them does.
    if (refusal.reason === "frame_far_too_large") {
      close(1009, FAR_TOO_LARGE_REASON);
    } else reply(errorFrame(refusal.error));
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

type ParsedFrame = { frame: ClientFrame } | { refusal: Refusal };

function frameType(parsed: ParsedFrame): string {
  return "frame" in parsed ? parsed.frame.type : "frame";
}

/** Turns raw frame data into a valid client frame, or says what is wrong. */
function parseFrame(data: unknown, maxFrameBytes: number): ParsedFrame {
  const binary = typeof data !== "string";
  const farLimit = maxFrameBytes * FAR_OVER_FACTOR;
  // A text of at most a third of the limit in UTF-16 units fits in any
  // case; a longer one is counted, up to the far limit.
  const bytes = binary
    ? binaryLength(data)
    : data.length * 3 <= maxFrameBytes
    ? data.length
    : utf8Length(data, farLimit);
  if (bytes > farLimit) {
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
