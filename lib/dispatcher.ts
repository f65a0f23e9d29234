import { type ClientFrame, validateClientFrame } from "./contract.ts";
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

/** One frame, from its arrival until it has taken effect. */
interface Entry {
  parsed: ParsedFrame;
  /** A `send-message`, which may start while the frames before it run. */
  pipelined: boolean;
  /** Waiting for the frames before it to be done, to be answered. */
  refusal: Refusal | undefined;
  /** Started, and no later frame may start before it is done. */
  blocking: boolean;
  /** Settles the promise that `dispatch()` returned for it. */
  finish: () => void;
}

const settled: Promise<void> = Promise.resolve();
const noop = () => {};

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
  const frames = new FrameQueue(handlers, options);
  return (data) => frames.dispatch(data);
}

/**
 * The frames of one connection that have not yet taken effect, in the
 * order they came, and the rule that starts each in its turn. It counts
 * instead of chaining promises: a frame costs one promise of its own.
 */
class FrameQueue {
  readonly #handlers: FrameHandlers;
  readonly #options: DispatcherOptions;
  readonly #maxFrameBytes: number;
  /** Every frame not yet done, oldest first; the first ones have started. */
  readonly #entries: Entry[] = [];
  /** How many of them have started. */
  #started = 0;
  /** How many of those no `send-message` may start beside. */
  #blocking = 0;
  /** A frame's admission is being decided: no later frame starts. */
  #admitting = false;
  #pumping = false;
  #pumpAgain = false;

  constructor(handlers: FrameHandlers, options: DispatcherOptions) {
    this.#handlers = handlers;
    this.#options = options;
    this.#maxFrameBytes = options.maxFrameBytes ?? 65536;
  }

  dispatch(data: unknown): Promise<void> {
    if (!this.#options.isOpen()) return settled;
    let parsed: ParsedFrame;
    try {
      this.#options.spend?.();
      parsed = parseFrame(data, this.#maxFrameBytes);
    } catch (error) {
      parsed = { refusal: this.#refusalFor(error, "frame") };
    }
    const entry: Entry = {
      parsed,
      pipelined: "frame" in parsed && parsed.frame.type === "send-message",
      refusal: undefined,
      blocking: false,
      finish: noop,
    };
    const taken = new Promise<void>((resolve) => entry.finish = resolve);
    this.#entries.push(entry);
    this.#pump();
    return taken;
  }

  /** Does what may be done now, until nothing may. */
  #pump(): void {
    // A step can lead back here (an answer that closes the connection).
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      while (this.#step() || this.#pumpAgain) this.#pumpAgain = false;
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Answers the oldest frame, once refused (every frame before it is
   * done), or starts the next frame, once its turn has come.
   *
   * @returns whether it did either
   */
  #step(): boolean {
    const oldest = this.#entries[0];
    if (oldest?.refusal) {
      if (this.#options.isOpen()) this.#answer(oldest.refusal);
      this.#done(oldest);
      return true;
    }
    const next = this.#entries[this.#started];
    if (!next || this.#admitting) return false;
    // A frame waits for every frame before it to be done; a send-message
    // only for them to have started, if none of them blocks.
    if (this.#started > 0 && !(next.pipelined && this.#blocking === 0)) {
      return false;
    }
    this.#started++;
    this.#start(next);
    return true;
  }

  /** Admits a frame and starts its handler, or refuses it. */
  #start(entry: Entry): void {
    const { parsed } = entry;
    if (!entry.pipelined) this.#block(entry);
    if (!this.#options.isOpen()) return this.#done(entry);
    if ("refusal" in parsed) {
      entry.refusal = parsed.refusal;
      return;
    }
    let admission;
    try {
      admission = this.#options.admit?.(parsed.frame);
    } catch (error) {
      return this.#refuse(entry, error, true);
    }
    if (!admission) return this.#run(entry, parsed.frame);
    this.#admitting = true;
    admission.then(
      () => {
        this.#admitting = false;
        this.#run(entry, parsed.frame);
        this.#pump();
      },
      (error) => {
        this.#admitting = false;
        this.#refuse(entry, error, true);
        this.#pump();
      },
    );
  }

  #run(entry: Entry, frame: ClientFrame): void {
    if (!this.#options.isOpen()) return this.#done(entry);
    const handler = this.#handlers[frame.type] as (
      frame: ClientFrame,
    ) => unknown;
    let running;
    try {
      running = handler(frame);
    } catch (error) {
      return this.#refuse(entry, error, true);
    }
    if (!isPromiseLike(running)) return this.#done(entry);
    running.then(
      () => {
        this.#done(entry);
        this.#pump();
      },
      (error) => {
        this.#refuse(entry, error, false);
        this.#pump();
      },
    );
  }

  /**
   * To be answered once every frame before it is done; refused as it
   * started, no later frame starts before the answer.
   */
  #refuse(entry: Entry, error: unknown, asItStarted: boolean): void {
    entry.refusal = this.#refusalFor(error, frameType(entry.parsed));
    if (asItStarted) this.#block(entry);
  }

  #block(entry: Entry): void {
    if (entry.blocking) return;
    entry.blocking = true;
    this.#blocking++;
  }

  /** The frame has taken effect; the frames before it may not have. */
  #done(entry: Entry): void {
    this.#entries.splice(this.#entries.indexOf(entry), 1);
    this.#started--;
    if (entry.blocking) this.#blocking--;
    entry.finish();
  }

  #answer(refusal: Refusal): void {
    this.#options.onRefuse?.(refusal.reason);
    // Not a client of this protocol: close, as a runtime that refuses
    // oversized frames before reading them does.
    if (refusal.reason === "frame_far_too_large") {
      this.#options.close(1009, FAR_TOO_LARGE_REASON);
    } else this.#options.reply(errorFrame(refusal.error));
  }

  /** The refusal a handler's error becomes; a bug is logged, not shown. */
  #refusalFor(error: unknown, frameType: string): Refusal {
    if (error instanceof ProtocolError) {
      return { error: error.message, reason: error.reason };
    }
    (this.#options.onUnexpectedError ?? console.error)(error, frameType);
    return {
      error: `The server failed to handle "${frameType}"; try again`,
      reason: "internal",
    };
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then ===
    "function";
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
  const result = validateClientFrame(json.value);
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
