import { parseJson } from "../parse_json.ts";
import { HttpError } from "./http_error.ts";

/** Options of {@linkcode readJsonBody}. */
export interface ReadBodyOptions {
  /** Largest accepted body, in bytes. */
  maxBytes: number;
  /**
   * Longest the whole body may take to arrive, in milliseconds.
   * @default {10000}
   */
  timeoutMs?: number | undefined;
}

/**
 * Reads a request body that must be JSON, refusing it with an
 * {@linkcode HttpError} when it is not declared as `application/json` (415),
 * is larger than `maxBytes` (413), has not arrived within `timeoutMs` (408,
 * and the connection is closed), or does not parse (400).
 *
 * Memory follows the bytes: an oversized body is never held whole (with a
 * declared length it is refused unread, without one it is refused on the
 * way), and a body sent in tiny chunks costs what its bytes cost, not a
 * buffer per chunk.
 */
export async function readJsonBody(
  request: Request,
  options: ReadBodyOptions,
): Promise<unknown> {
  const mediaType = request.headers.get("content-type")?.split(";")[0]?.trim()
    .toLowerCase();
  if (mediaType !== "application/json") {
    throw new HttpError(
      415,
      'Content-Type must be application/json: add the header "Content-Type: application/json"',
    );
  }
  const text = await readText(request, options);
  if (text.trim() === "") {
    throw new HttpError(
      400,
      'request body is empty: send a JSON object such as {"room_id": "general"}',
    );
  }
  const json = parseJson(text);
  if (!json.ok) {
    throw new HttpError(400, `request body is not valid JSON: ${json.error}`);
  }
  return json.value;
}

/** The body as text, within the size limit and the deadline. */
async function readText(
  request: Request,
  { maxBytes, timeoutMs = 10_000 }: ReadBodyOptions,
): Promise<string> {
  // Made only when thrown: an Error captures a stack trace, which costs a
  // good part of a request's time.
  const tooLarge = () =>
    new HttpError(
      413,
      `request body is larger than the limit of ${maxBytes} bytes`,
    );
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    await request.body?.cancel();
    throw tooLarge();
  }
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  const late = Promise.withResolvers<never>();
  deadline.signal.addEventListener("abort", () =>
    late.reject(
      new HttpError(
        408,
        `request body did not arrive within ${timeoutMs / 1000} s`,
        // What is left of the body must not be read as the next request.
        { headers: { connection: "close" } },
      ),
    ));
  // The declared length bounds the body, so the runtime may read it in one
  // go, which is much cheaper than through a stream reader.
  const reading = declared !== null
    ? request.text()
    : readChunks(request.body, maxBytes, deadline.signal, tooLarge);
  try {
    return await Promise.race([reading, late.promise]);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    // The client went away mid-body, say: its fault, not the server's.
    throw new HttpError(
      400,
      `request body could not be read: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
    // Once late, the body is abandoned: the closed connection ends it.
    reading.catch(() => {});
  }
}

/**
 * Reads a body of unknown length into one buffer that grows with it,
 * refusing it as soon as it is too large. A byte stream is read straight
 * into that buffer: Deno hands each chunk of a chunked body over in a
 * buffer of 64 KiB, so keeping the chunks would cost 64 KiB per byte sent
 * in one-byte chunks.
 */
async function readChunks(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  signal: AbortSignal,
  tooLarge: () => HttpError,
): Promise<string> {
  if (!body) return "";
  const collected = new GrowingBuffer(maxBytes);
  const reader = byobReader(body) ?? body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", cancel);
  try {
    if (reader instanceof ReadableStreamBYOBReader) {
      await readInto(collected, reader, tooLarge);
    } else await copyInto(collected, reader, tooLarge);
  } catch (error) {
    cancel();
    throw error;
  } finally {
    signal.removeEventListener("abort", cancel);
  }
  return new TextDecoder().decode(collected.bytes());
}

/** Reads a byte stream straight into `collected`. */
async function readInto(
  collected: GrowingBuffer,
  reader: ReadableStreamBYOBReader,
  tooLarge: () => HttpError,
): Promise<void> {
  for (;;) {
    if (collected.full) throw tooLarge();
    const { done, value } = await reader.read(collected.spare());
    // The reader moved the buffer into `value`, even when done.
    if (value) collected.filled(value);
    if (done) return;
  }
}

/** Copies each chunk of a stream into `collected`, then lets it go. */
async function copyInto(
  collected: GrowingBuffer,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  tooLarge: () => HttpError,
): Promise<void> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (!collected.append(value)) throw tooLarge();
  }
}

/** A reader that fills buffers of our own, if the stream can give one. */
function byobReader(
  body: ReadableStream<Uint8Array>,
): ReadableStreamBYOBReader | undefined {
  try {
    return body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream (Bun's bodies, a body the runtime read already).
    return undefined;
  }
}

/**
 * The smallest view a byte reader is offered: Deno 2.9 stalls a request
 * body's byte reader that is given a view of a few bytes.
 */
const MIN_VIEW_BYTES = 1024;

/**
 * Bytes collected into one buffer that doubles as it fills. It keeps room
 * for a view past the limit, so that a body over it is seen as soon as it
 * is.
 */
class GrowingBuffer {
  readonly #maxBytes: number;
  #buffer: Uint8Array;
  #size = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.#buffer = new Uint8Array(4 * MIN_VIEW_BYTES);
  }

  /** Whether it holds more than the limit. */
  get full(): boolean {
    return this.#size > this.#maxBytes;
  }

  /** Free space to read into, of at least {@linkcode MIN_VIEW_BYTES}. */
  spare(): Uint8Array {
    if (this.#buffer.length - this.#size < MIN_VIEW_BYTES) {
      this.#grow(this.#size + MIN_VIEW_BYTES);
    }
    return this.#buffer.subarray(this.#size);
  }

  /** Takes back the buffer a byte reader filled (and moved) after spare(). */
  filled(view: Uint8Array): void {
    this.#buffer = new Uint8Array(view.buffer);
    this.#size += view.byteLength;
  }

  /** Copies a chunk in; `false` if it would pass the limit. */
  append(chunk: Uint8Array): boolean {
    const size = this.#size + chunk.byteLength;
    if (size > this.#maxBytes) return false;
    if (size > this.#buffer.length) this.#grow(size);
    this.#buffer.set(chunk, this.#size);
    this.#size = size;
    return true;
  }

  /** What was collected. */
  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#size);
  }

  #grow(atLeast: number): void {
    const length = Math.min(
      this.#maxBytes + MIN_VIEW_BYTES,
      Math.max(atLeast, 2 * this.#buffer.length),
    );
    const buffer = new Uint8Array(length);
    buffer.set(this.bytes());
    this.#buffer = buffer;
  }
}
