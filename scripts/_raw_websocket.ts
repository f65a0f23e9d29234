/**
 * A WebSocket client written on a bare TCP connection, so that it can do
 * what the `WebSocket` API never does: vanish without a closing handshake,
 * even in the middle of a frame. The soak run uses it to make abrupt
 * disconnects.
 *
 * @module
 */

/** Longest handshake answer read before giving up. */
const MAX_HANDSHAKE_BYTES = 8192;

const encoder = new TextEncoder();

/** Options of {@linkcode RawWebSocket.connect}. */
export interface RawConnectOptions {
  /** How long the handshake may take, in milliseconds. */
  timeoutMs: number;
}

/** A client-side WebSocket on a `Deno.TcpConn`, incoming frames discarded. */
export class RawWebSocket {
  #conn: Deno.TcpConn;
  #draining: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#draining = drain(conn);
  }

  /** Connects to `ws://host:port/` and completes the opening handshake. */
  static async connect(
    url: string,
    options: RawConnectOptions,
  ): Promise<RawWebSocket> {
    const { hostname, port, host } = new URL(url);
    const conn = await Deno.connect({ hostname, port: Number(port) });
    const timer = setTimeout(() => conn.close(), options.timeoutMs);
    try {
      const key = btoa(
        String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
      );
      await writeAll(
        conn,
        encoder.encode(
          `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
            `Sec-WebSocket-Version: 13\r\n\r\n`,
        ),
      );
      const head = await readHead(conn);
      if (!head.startsWith("HTTP/1.1 101")) {
        throw new Error(`handshake refused: ${head.split("\r\n")[0]}`);
      }
    } catch (error) {
      try {
        conn.close();
      } catch {
        // The timer closed it already.
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return new RawWebSocket(conn);
  }

  /** Sends one text frame. */
  async send(text: string): Promise<void> {
    await writeAll(this.#conn, maskedTextFrame(text));
  }

  /** Sends only the first half of a text frame, as a crash would. */
  async sendHalf(text: string): Promise<void> {
    const frame = maskedTextFrame(text);
    await writeAll(this.#conn, frame.subarray(0, frame.length >> 1));
  }

  /** Writes bytes as they are: a frame made by hand. */
  async write(bytes: Uint8Array): Promise<void> {
    await writeAll(this.#conn, bytes);
  }

  /**
   * Starts a text frame that announces `announced` bytes, and sends only
   * the first `sent` of them: a frame that never finishes arriving.
   */
  async sendHead(announced: number, sent: number): Promise<void> {
    const frame = maskedFrame(0x1, new Uint8Array(0));
    const header = frameHeader(0x1, announced);
    const mask = frame.subarray(frame.length - 4);
    const payload = new Uint8Array(sent).fill(0x78);
    for (let i = 0; i < sent; i++) payload[i]! ^= mask[i & 3]!;
    await writeAll(this.#conn, header);
    await writeAll(this.#conn, mask);
    await writeAll(this.#conn, payload);
  }

  /** Drops the TCP connection without a closing handshake. */
  async abort(): Promise<void> {
    this.#conn.close();
    await this.#draining;
  }
}

/** Reads the handshake answer up to its blank line. */
async function readHead(conn: Deno.TcpConn): Promise<string> {
  const buffer = new Uint8Array(MAX_HANDSHAKE_BYTES);
  let length = 0;
  while (length < buffer.length) {
    const read = await conn.read(buffer.subarray(length));
    if (read === null) break;
    length += read;
    const text = new TextDecoder().decode(buffer.subarray(0, length));
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) return text.slice(0, end);
  }
  throw new Error("the handshake answer ended early or was too long");
}

/** Reads and discards whatever arrives until the connection closes. */
async function drain(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(16384);
  try {
    while (await conn.read(buffer) !== null) {
      // Discarded: this client only has to keep reading.
    }
  } catch {
    // Closed by abort(), or reset by the server.
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array) {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** The head of a masked final frame, up to its mask. */
function frameHeader(opcode: number, length: number): Uint8Array {
  return new Uint8Array(
    length < 126
      ? [0x80 | opcode, 0x80 | length]
      : length < 0x10000
      ? [0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff]
      : [0x80 | opcode, 0x80 | 127, 0, 0, 0, 0, ...uint32(length)],
  );
}

/** A final frame of any opcode, masked as RFC 6455 requires of clients. */
export function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const header = frameHeader(opcode, length);
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(header.length + 4 + length);
  frame.set(header);
  frame.set(mask, header.length);
  const start = header.length + 4;
  for (let i = 0; i < length; i++) {
    frame[start + i] = payload[i]! ^ mask[i & 3]!;
  }
  return frame;
}

/** A masked text frame. */
export function maskedTextFrame(text: string): Uint8Array {
  return maskedFrame(0x1, encoder.encode(text));
}

/** A masked close frame with a status code. */
export function maskedCloseFrame(code: number): Uint8Array {
  return maskedFrame(0x8, new Uint8Array([code >> 8, code & 0xff]));
}

function uint32(value: number): number[] {
  return [
    value >>> 24,
    (value >> 16) & 0xff,
    (value >> 8) & 0xff,
    value & 0xff,
  ];
}
