/**
 * A WebSocket client at the TCP level, for clients that misbehave: one that
 * never reads, never answers a ping, or writes several frames and a close
 * at once. It does the opening handshake, and reads frames only when asked.
 *
 * @module
 */
import { within } from "./_helpers.ts";

export {
  maskedCloseFrame,
  maskedTextFrame,
  writeAll,
} from "../scripts/_raw_websocket.ts";

/**
 * Opens a TCP connection and completes the WebSocket opening handshake,
 * with these extra header lines (`X-Forwarded-For: 10.0.0.1`).
 */
export async function rawWebSocket(
  wsUrl: string,
  headers: string[] = [],
): Promise<Deno.TcpConn> {
  const answer = await tryRawWebSocket(wsUrl, headers);
  if ("conn" in answer) return answer.conn;
  throw new Error(`handshake refused: ${answer.statusLine}`);
}

/** What a server answered to an opening handshake. */
export type HandshakeAnswer =
  | { conn: Deno.TcpConn }
  | { status: number; statusLine: string; body: string };

/**
 * Opens a TCP connection and asks for a WebSocket, with these extra header
 * lines: the open connection, or the server's refusal (its status and
 * body; the connection is closed).
 */
export async function tryRawWebSocket(
  wsUrl: string,
  headers: string[] = [],
): Promise<HandshakeAnswer> {
  const url = new URL(wsUrl);
  const conn = await Deno.connect({
    hostname: url.hostname,
    port: Number(url.port),
  });
  const request = [
    `GET ${url.pathname} HTTP/1.1`,
    `Host: ${url.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...headers,
    "",
    "",
  ].join("\r\n");
  try {
    await conn.write(new TextEncoder().encode(request));
    const head = await within(readHead(conn), "the handshake response");
    if (head.startsWith("HTTP/1.1 101")) return { conn };
    const length = Number(/^content-length: *(\d+)/im.exec(head)?.[1] ?? 0);
    const body = new Uint8Array(length);
    for (let read = 0; read < length;) {
      const count = await within(conn.read(body.subarray(read)), "the body");
      if (count === null) break;
      read += count;
    }
    conn.close();
    const statusLine = head.split("\r\n")[0]!;
    return {
      status: Number(statusLine.split(" ")[1]),
      statusLine,
      body: new TextDecoder().decode(body),
    };
  } catch (error) {
    conn.close();
    throw error;
  }
}

/** Reads a response head, byte by byte, so that no frame is consumed. */
async function readHead(conn: Deno.TcpConn): Promise<string> {
  let head = "";
  const byte = new Uint8Array(1);
  while (!head.endsWith("\r\n\r\n")) {
    if (await conn.read(byte) === null) {
      throw new Error(`connection closed during handshake: ${head}`);
    }
    head += String.fromCharCode(byte[0]!);
  }
  return head;
}

/**
 * Waits until the server closes `conn` (reading and dropping whatever it
 * sends), at most `ms`.
 *
 * @returns how long it took, in milliseconds
 */
export async function closedWithin(
  conn: Deno.Conn,
  ms: number,
): Promise<number> {
  const started = Date.now();
  const buffer = new Uint8Array(4096);
  await within(
    (async () => {
      try {
        while (await conn.read(buffer) !== null) {
          // Not the end yet.
        }
      } catch {
        // Reset by the server: closed too.
      }
    })(),
    "the server to close the connection",
    ms,
  );
  return Date.now() - started;
}

/** One frame from the server: its opcode and payload. */
export interface ServerFrameBytes {
  opcode: number;
  payload: Uint8Array;
}

/** Reads the server's frames from a raw connection, one at a time. */
export class FrameReader {
  #conn: Deno.TcpConn;
  #buffer = new Uint8Array(0);

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** The next frame, or `null` once the connection has ended. */
  async next(): Promise<ServerFrameBytes | null> {
    if (!await this.#fill(2)) return null;
    const length7 = this.#buffer[1]! & 0x7f;
    const extra = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    if (!await this.#fill(2 + extra)) return null;
    const view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset);
    const length = extra === 2
      ? view.getUint16(2)
      : extra === 8
      ? Number(view.getBigUint64(2))
      : length7;
    if (!await this.#fill(2 + extra + length)) return null;
    const frame = {
      opcode: this.#buffer[0]! & 0x0f,
      payload: this.#buffer.slice(2 + extra, 2 + extra + length),
    };
    this.#buffer = this.#buffer.slice(2 + extra + length);
    return frame;
  }

  /** The next text frame, parsed; `null` once a close frame or the end came. */
  async nextText(): Promise<Record<string, unknown> | null> {
    for (;;) {
      const frame = await within(this.next(), "a frame");
      if (frame === null || frame.opcode === 0x8) return null;
      if (frame.opcode === 0x1) {
        return JSON.parse(new TextDecoder().decode(frame.payload));
      }
    }
  }

  async #fill(length: number): Promise<boolean> {
    while (this.#buffer.length < length) {
      const chunk = new Uint8Array(65536);
      let read;
      try {
        read = await this.#conn.read(chunk);
      } catch {
        return false;
      }
      if (read === null) return false;
      const grown = new Uint8Array(this.#buffer.length + read);
      grown.set(this.#buffer);
      grown.set(chunk.subarray(0, read), this.#buffer.length);
      this.#buffer = grown;
    }
    return true;
  }
}

/** Opens a TCP connection to the host and port of an `http://` URL. */
export function tcpConnect(httpUrl: string): Promise<Deno.TcpConn> {
  const url = new URL(httpUrl);
  return Deno.connect({ hostname: url.hostname, port: Number(url.port) });
}

/** An HTTP/1.1 response read off a raw connection. */
export interface RawResponse {
  /** The status line, such as `HTTP/1.1 408 Request Timeout`. */
  status: string;
  /** Header names in lower case. */
  headers: Map<string, string>;
  /** The body (with a `Content-Length`), as text. */
  body: string;
}

/**
 * Reads one response with a `Content-Length` off `conn`, without reading
 * past it. Every wait is bounded (by `ms` each, if given).
 */
export async function readResponse(
  conn: Deno.TcpConn,
  ms?: number,
): Promise<RawResponse> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  let bytes = new Uint8Array(0);
  for (;;) {
    const text = decoder.decode(bytes);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const [status = "", ...lines] = text.slice(0, end).split("\r\n");
      const headers = new Map(lines.map((line) => {
        const colon = line.indexOf(":");
        return [
          line.slice(0, colon).toLowerCase(),
          line.slice(colon + 1).trim(),
        ];
      }));
      const length = Number(headers.get("content-length"));
      const head = new TextEncoder().encode(text.slice(0, end + 4)).length;
      if (bytes.length >= head + length) {
        const body = decoder.decode(bytes.subarray(head, head + length));
        return { status, headers, body };
      }
    }
    const read = await within(conn.read(buffer), "a response", ms);
    if (read === null) {
      throw new Error(`connection closed mid-response: ${text.slice(0, 200)}`);
    }
    const more = new Uint8Array(bytes.length + read);
    more.set(bytes);
    more.set(buffer.subarray(0, read), bytes.length);
    bytes = more;
  }
}

/**
 * Everything the server sends until it closes the connection, as text;
 * rejects if it does not close it within `ms`.
 */
export async function readToEnd(
  conn: Deno.TcpConn,
  ms?: number,
): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  let text = "";
  for (;;) {
    const read = await within(conn.read(buffer), "the server to close", ms);
    if (read === null) return text + decoder.decode();
    text += decoder.decode(buffer.subarray(0, read), { stream: true });
  }
}
