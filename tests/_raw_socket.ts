/**
 * A WebSocket client at the TCP level, for clients that misbehave: one that
 * never reads, or never answers a ping. It does the opening handshake and
 * can send frames, nothing more.
 *
 * @module
 */
import { within } from "./_helpers.ts";

/**
 * Opens a TCP connection and completes the WebSocket opening handshake,
 * with these extra header lines (`X-Forwarded-For: 10.0.0.1`).
 */
export async function rawWebSocket(
  wsUrl: string,
  headers: string[] = [],
): Promise<Deno.TcpConn> {
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
  await conn.write(new TextEncoder().encode(request));
  // Read only the response head, byte by byte, so no frame is consumed.
  let head = "";
  const byte = new Uint8Array(1);
  while (!head.endsWith("\r\n\r\n")) {
    const read = await within(conn.read(byte), "the handshake response");
    if (read === null) {
      throw new Error(`connection closed during handshake: ${head}`);
    }
    head += String.fromCharCode(byte[0]!);
  }
  if (!head.startsWith("HTTP/1.1 101")) {
    conn.close();
    throw new Error(`handshake refused: ${head.split("\r\n")[0]}`);
  }
  return conn;
}

/** A masked text frame, as a client must send it. */
export function maskedTextFrame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const length = payload.length;
  const header = length < 126
    ? [0x81, 0x80 | length]
    : length < 65536
    ? [0x81, 0x80 | 126, length >> 8, length & 0xff]
    : (() => {
      throw new RangeError("frame too long for this helper");
    })();
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const frame = new Uint8Array(header.length + 4 + length);
  frame.set(header, 0);
  frame.set(mask, header.length);
  for (let i = 0; i < length; i++) {
    frame[header.length + 4 + i] = payload[i]! ^ mask[i % 4]!;
  }
  return frame;
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
