/**
 * The load generator's sparring partner: a server that does as little as a
 * server can, so that whatever rate the load generator reaches against it is
 * the load generator's own ceiling.
 *
 * - A WebSocket client sends a number `n` as text; the sink answers with `n`
 *   copies of one prepared `receive-message` frame, shaped like a real one,
 *   in one write.
 * - Every HTTP request gets the same small JSON answer.
 *
 * It speaks HTTP/1.1 and WebSocket itself on bare TCP connections: through
 * `Deno.serve` and the `WebSocket` API every frame costs a few
 * microseconds, so the sink, not the load generator, would be the limit.
 * It understands only what the load generator sends.
 *
 * ```sh
 * deno run --allow-net scripts/bench/sink_server.ts --port 0
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "3000" },
  },
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const FRAME = serverTextFrame(JSON.stringify({
  type: "receive-message",
  room_id: "room-0",
  from: "client-0",
  message: String(performance.timeOrigin + performance.now()),
  sent_at: (performance.timeOrigin + performance.now()) / 1000,
  id: 1_000_000,
}));
const BODY = JSON.stringify({ rooms: ["room-0"] });
const HTTP_ANSWER = encoder.encode(
  "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" +
    `content-length: ${BODY.length}\r\n\r\n${BODY}`,
);
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** `n` copies of the frame, one buffer per `n` asked for. */
const bursts = new Map<number, Uint8Array>();

/** An unmasked text frame, as a server sends it. */
function serverTextFrame(text: string): Uint8Array {
  const payload = encoder.encode(text);
  const header = payload.length < 126
    ? [0x81, payload.length]
    : [0x81, 126, payload.length >> 8, payload.length & 0xff];
  const frame = new Uint8Array(header.length + payload.length);
  frame.set(header);
  frame.set(payload, header.length);
  return frame;
}

function burst(count: number): Uint8Array {
  let bytes = bursts.get(count);
  if (!bytes) {
    bytes = new Uint8Array(FRAME.length * count);
    for (let i = 0; i < count; i++) bytes.set(FRAME, i * FRAME.length);
    bursts.set(count, bytes);
  }
  return bytes;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** Bytes read from a connection, consumed from the front. */
class Input {
  bytes = new Uint8Array(64 * 1024);
  start = 0;
  end = 0;
  readonly #conn: Deno.Conn;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Reads more; `false` once the connection has ended. */
  async more(): Promise<boolean> {
    if (this.start > 0) {
      this.bytes.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.bytes.length) {
      const larger = new Uint8Array(this.bytes.length * 2);
      larger.set(this.bytes);
      this.bytes = larger;
    }
    const read = await this.#conn.read(this.bytes.subarray(this.end));
    if (read === null) return false;
    this.end += read;
    return true;
  }

  /** The request head up to its blank line, once it has all arrived. */
  head(): string | undefined {
    for (let i = this.start; i + 3 < this.end; i++) {
      if (
        this.bytes[i] === 13 && this.bytes[i + 1] === 10 &&
        this.bytes[i + 2] === 13 && this.bytes[i + 3] === 10
      ) {
        const head = decoder.decode(this.bytes.subarray(this.start, i));
        this.start = i + 4;
        return head;
      }
    }
    return undefined;
  }
}

function header(head: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*?)\\s*$`, "im").exec(head)?.[1];
}

async function serve(conn: Deno.Conn): Promise<void> {
  const input = new Input(conn);
  for (;;) {
    let head;
    while ((head = input.head()) === undefined) {
      if (!await input.more()) return;
    }
    const key = header(head, "sec-websocket-key");
    if (key !== undefined) return await serveWebSocket(conn, input, key);
    // Skip the body, then answer.
    let body = Number(header(head, "content-length") ?? 0);
    while (body > 0) {
      const taken = Math.min(body, input.end - input.start);
      input.start += taken;
      body -= taken;
      if (body > 0 && !await input.more()) return;
    }
    await writeAll(conn, HTTP_ANSWER);
  }
}

async function serveWebSocket(
  conn: Deno.Conn,
  input: Input,
  key: string,
): Promise<void> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    encoder.encode(key + WEBSOCKET_GUID),
  );
  const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
  await writeAll(
    conn,
    encoder.encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
        `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    ),
  );
  for (;;) {
    // Client frames are short and masked: 2 bytes, the mask, the payload.
    const { bytes, start, end } = input;
    const length = end - start >= 2 ? bytes[start + 1]! & 0x7f : Infinity;
    // Longer frames are not the load generator's.
    if (length >= 126 && length !== Infinity) return;
    if (end - start >= 6 + length) {
      const opcode = bytes[start]! & 0x0f;
      const payload = bytes.slice(start + 6, start + 6 + length);
      for (let i = 0; i < length; i++) {
        payload[i]! ^= bytes[start + 2 + (i & 3)]!;
      }
      input.start += 6 + length;
      if (opcode === 0x8) return;
      if (opcode === 0x1) {
        await writeAll(conn, burst(Number(decoder.decode(payload))));
      }
    } else if (!await input.more()) return;
  }
}

const listener = Deno.listen({
  hostname: values.host,
  port: Number(values.port),
});
const { hostname, port } = listener.addr;
console.log(`Sink server listening on ${hostname}:${port}`);
for await (const conn of listener) {
  serve(conn)
    .catch(() => {
      // A client that left: nothing to do.
    })
    .finally(() => {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    });
}
