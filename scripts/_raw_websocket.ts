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

/** A final text frame, masked as RFC 6455 requires of clients. */
function maskedTextFrame(text: string): Uint8Array {
  const payload = encoder.encode(text);
  if (payload.length > 0xffff) {
    throw new RangeError(`frame of ${payload.length} bytes is too long`);
  }
  const header = payload.length < 126
    ? [0x81, 0x80 | payload.length]
    : [0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff];
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(header.length + 4 + payload.length);
  frame.set(header);
  frame.set(mask, header.length);
  const start = header.length + 4;
  for (let i = 0; i < payload.length; i++) {
    frame[start + i] = payload[i]! ^ mask[i & 3]!;
  }
  return frame;
}
