import { ClientFrame, validate } from "./contract.ts";
import { errorFrame } from "./frames.ts";
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
   * Largest accepted frame, in bytes of UTF-8.
   * @default {65536}
   */
  maxFrameBytes?: number | undefined;
  /** Called with a handler's error that is not a {@linkcode ProtocolError}. */
  onUnexpectedError?: (error: unknown, frameType: string) => void;
}

/**
 * Creates the function that takes every incoming frame of one connection:
 * it checks size and JSON, validates against the wire contract and calls the
 * handler of the frame's `type`. Whatever goes wrong, the client gets an
 * error frame through `reply`; the returned promise never rejects.
 */
export function createDispatcher(
  handlers: FrameHandlers,
  reply: (text: string) => void,
  options: DispatcherOptions = {},
): (data: unknown) => Promise<void> {
  const maxFrameBytes = options.maxFrameBytes ?? 65536;
  const onUnexpectedError = options.onUnexpectedError ?? console.error;

  return async function dispatch(data: unknown): Promise<void> {
    const parsed = parseFrame(data, maxFrameBytes);
    if (!parsed.ok) return reply(errorFrame(parsed.error));
    const frame = parsed.value;
    const handler = handlers[frame.type] as (frame: ClientFrame) => unknown;
    try {
      await handler(frame);
    } catch (error) {
      if (error instanceof ProtocolError) {
        return reply(errorFrame(error.message));
      }
      onUnexpectedError(error, frame.type);
      reply(
        errorFrame(`The server failed to handle "${frame.type}"; try again`),
      );
    }
  };
}

/** Turns raw frame data into a valid client frame, or says what is wrong. */
function parseFrame(
  data: unknown,
  maxFrameBytes: number,
): { ok: true; value: ClientFrame } | { ok: false; error: string } {
  if (typeof data !== "string") {
    return {
      ok: false,
      error: "binary frames are not supported: send JSON as a text frame",
    };
  }
  if (utf8Length(data, maxFrameBytes) > maxFrameBytes) {
    return {
      ok: false,
      error: `frame is larger than the limit of ${maxFrameBytes} bytes`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (error) {
    return {
      ok: false,
      error: `frame is not valid JSON: ${(error as SyntaxError).message}`,
    };
  }
  return validate(ClientFrame, json);
}

const encoder = new TextEncoder();

/**
 * The UTF-8 length of `text`, or any number above `limit` when it is surely
 * over it. A UTF-16 unit takes 1 to 3 bytes, so most frames need no
 * encoding at all.
 */
function utf8Length(text: string, limit: number): number {
  if (text.length > limit) return text.length;
  if (text.length * 3 <= limit) return text.length;
  return encoder.encode(text).length;
}
