/**
 * The load generator's WebSocket client: a bare TCP connection that reads
 * frames straight out of its read buffer, so that a thread can count
 * millions of frames a second. The `WebSocket` API makes an event and a
 * string of every frame, which caps one thread at about 200,000 frames a
 * second: less than a Bun server sends.
 *
 * A frame is handed over as a range of the read buffer, valid only during
 * the call; the caller looks at a byte or two, and decodes the few it needs.
 * Pings are answered; fragmented frames are not expected (no server here
 * fragments frames this small) and are skipped.
 *
 * @module
 */
import { openWebSocketConn, writeAll } from "../_raw_websocket.ts";

/** Called with each text frame: its payload is `bytes[start..end)`. */
export type OnText = (bytes: Uint8Array, start: number, end: number) => void;

/** Options of {@linkcode LightWebSocket.connect}. */
export interface LightConnectOptions {
  /** Called with every text frame received. */
  onText: OnText;
  /**
   * How long the handshake may take, in milliseconds.
   * @default {10000}
   */
  timeoutMs?: number;
}

const OPCODE = { text: 0x1, close: 0x8, ping: 0x9, pong: 0xa } as const;
/** Read buffers start this small (idle clients are many) and grow with use. */
const FIRST_BUFFER_BYTES = 16 * 1024;
const MAX_BUFFER_BYTES = 256 * 1024;
const CLOSE_WAIT_MS = 2000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A client WebSocket on a `Deno.TcpConn`, for the load generator. */
export class LightWebSocket {
  readonly #conn: Deno.TcpConn;
  readonly #onText: OnText;
  readonly #reading: Promise<void>;
  /** Frames waiting for the write in progress. */
  #queue: Uint8Array[] = [];
  #writing = false;
  #closeSent = false;
  /** The TCP connection is closed. */
  #ended = false;

  private constructor(conn: Deno.TcpConn, onText: OnText, rest: Uint8Array) {
    this.#conn = conn;
    this.#onText = onText;
    this.#reading = this.#read(rest);
  }

  /** Connects to a `ws://` URL and completes the opening handshake. */
  static async connect(
    url: string,
    options: LightConnectOptions,
  ): Promise<LightWebSocket> {
    const { conn, rest } = await openWebSocketConn(
      url,
      options.timeoutMs ?? 10_000,
    ).catch((error) => {
      throw new Error(`cannot connect to ${url}: ${error.message}`, {
        cause: error,
      });
    });
    conn.setNoDelay(true);
    return new LightWebSocket(conn, options.onText, rest);
  }

  /** Sends a text frame; frames sent in one turn go out in one write. */
  send(text: string): void {
    this.#write(clientFrame(OPCODE.text, encoder.encode(text)));
  }

  /**
   * Starts the closing handshake and resolves once the server has closed
   * the connection (or after a while, when it is ended anyway).
   */
  async close(): Promise<void> {
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#write(clientFrame(OPCODE.close, new Uint8Array([0x03, 0xe8])));
    }
    let timer;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
    });
    await Promise.race([this.#reading, late]);
    clearTimeout(timer);
    this.#end();
    await this.#reading;
  }

  #write(frame: Uint8Array): void {
    if (this.#ended) return;
    this.#queue.push(frame);
    if (!this.#writing) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#ended) {
        await writeAll(this.#conn, concat(this.#queue.splice(0)));
      }
    } catch {
      this.#end();
    } finally {
      this.#writing = false;
    }
  }

  /** Reads until the connection ends, handing over every complete frame. */
  async #read(rest: Uint8Array): Promise<void> {
    let buffer = new Uint8Array(Math.max(FIRST_BUFFER_BYTES, rest.length));
    buffer.set(rest);
    let filled = rest.length;
    let readFilledIt = false;
    try {
      for (;;) {
        const consumed = this.#frames(buffer, filled);
        if (consumed > 0) {
          buffer.copyWithin(0, consumed, filled);
          filled -= consumed;
        }
        // Full of one large frame, or reads fill it: a larger one helps.
        if (
          filled === buffer.length ||
          (readFilledIt && buffer.length < MAX_BUFFER_BYTES)
        ) buffer = grown(buffer, filled);
        const free = buffer.length - filled;
        const read = await this.#conn.read(buffer.subarray(filled));
        if (read === null) return;
        readFilledIt = read === free;
        filled += read;
      }
    } catch {
      // Reset by the server, or ended by close().
    } finally {
      this.#end();
    }
  }

  /** Handles the complete frames in `buffer[0..filled)`; returns their bytes. */
  #frames(buffer: Uint8Array, filled: number): number {
    let offset = 0;
    while (filled - offset >= 2) {
      const opcode = buffer[offset]! & 0x0f;
      let length = buffer[offset + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (filled - offset < 4) break;
        length = (buffer[offset + 2]! << 8) | buffer[offset + 3]!;
        header = 4;
      } else if (length === 127) {
        if (filled - offset < 10) break;
        length = 0;
        for (let i = 2; i < 10; i++) {
          length = length * 256 + buffer[offset + i]!;
        }
        header = 10;
      }
      const start = offset + header;
      const end = start + length;
      if (end > filled) break;
      if (opcode === OPCODE.text) this.#onText(buffer, start, end);
      else if (opcode === OPCODE.ping) {
        this.#write(clientFrame(OPCODE.pong, buffer.slice(start, end)));
      } else if (opcode === OPCODE.close && !this.#closeSent) {
        // The answer; the server then ends the connection.
        this.#closeSent = true;
        this.#write(clientFrame(OPCODE.close, buffer.slice(start, end)));
      }
      offset = end;
    }
    return offset;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    closeQuietly(this.#conn);
  }
}

/** The text of a payload, for the few frames that are looked into. */
export function textOf(bytes: Uint8Array, start: number, end: number): string {
  return decoder.decode(bytes.subarray(start, end));
}

/**
 * A client frame. Clients must mask their frames; the key is all zeros,
 * which leaves the payload as it is and costs nothing to apply (a server
 * cannot tell, and this client is no browser that a proxy must be guarded
 * from).
 */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = new Uint8Array(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (header === 2) frame[1] = 0x80 | length;
  else if (header === 4) {
    frame[1] = 0x80 | 126;
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  frame.set(payload, header + 4);
  return frame;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const all = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

function grown(
  buffer: Uint8Array,
  filled: number,
): Uint8Array<ArrayBuffer> {
  const larger = new Uint8Array(Math.max(buffer.length * 2, filled * 2));
  larger.set(buffer.subarray(0, filled));
  return larger;
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}
