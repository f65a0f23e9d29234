/**
 * A WebSocket client at the TCP level, for clients that misbehave: one that
 * never reads, or never answers a ping. It does the opening handshake and
 * can send frames, nothing more.
 *
 * @module
 */
import { within } from "./_helpers.ts";

/** Opens a TCP connection and completes the WebSocket opening handshake. */
export async function rawWebSocket(wsUrl: string): Promise<Deno.TcpConn> {
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
