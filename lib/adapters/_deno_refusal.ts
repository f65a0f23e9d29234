import type { Refusal } from "../admission.ts";

/** Longest a refused connection may take to send its request. */
const REFUSAL_READ_MS = 1000;

/**
 * Answers a refused connection with its refusal, and closes it. The
 * request is read first: a socket closed with bytes unread resets the
 * connection, and a client still sending its request would then see the
 * reset instead of the answer.
 */
export async function answerRefusal(
  conn: Deno.TcpConn,
  refusal: Refusal,
): Promise<void> {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  const timer = setTimeout(close, REFUSAL_READ_MS);
  try {
    await conn.read(new Uint8Array(4096));
    await conn.write(httpAnswer(refusal));
  } catch {
    // The peer is gone, or took too long.
  } finally {
    clearTimeout(timer);
    close();
  }
}

/** A refusal as an HTTP response that closes the connection. */
function httpAnswer(refusal: Refusal): Uint8Array {
  const body = new TextEncoder().encode(
    JSON.stringify({ error: refusal.error }),
  );
  const head = new TextEncoder().encode(
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? ""}\r\n` +
      "content-type: application/json\r\n" +
      `content-length: ${body.length}\r\n` +
      "connection: close\r\n\r\n",
  );
  const answer = new Uint8Array(head.length + body.length);
  answer.set(head);
  answer.set(body, head.length);
  return answer;
}

const STATUS_TEXT: Record<number, string> = {
  403: "Forbidden",
  503: "Service Unavailable",
};
