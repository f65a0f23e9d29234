import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { within } from "./_helpers.ts";
import { TARGETS } from "./_targets.ts";

/** Sends `request` over a new connection and reads until the server closes. */
async function exchange(httpUrl: string, request: string): Promise<string> {
  const { hostname, port } = new URL(httpUrl);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(new TextEncoder().encode(request));
    const chunks = [];
    const buffer = new Uint8Array(65536);
    for (;;) {
      const read = await within(conn.read(buffer), "the answer");
      if (read === null) break;
      chunks.push(buffer.slice(0, read));
    }
    return new TextDecoder().decode(
      new Uint8Array(chunks.flatMap((chunk) => [...chunk])),
    );
  } finally {
    conn.close();
  }
}

for (const target of TARGETS) {
  Deno.test(`REST answers are sent uncompressed, whatever the client accepts (${target.name})`, async () => {
    await using chat = await target.start();
    const body = JSON.stringify({
      room_id: "r",
      from: "W",
      message: "x".repeat(500),
    });
    const answer = await exchange(
      chat.httpUrl,
      "POST /send HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, br\r\n" +
        "Content-Type: application/json\r\nConnection: close\r\n" +
        `Content-Length: ${body.length}\r\n\r\n${body}`,
    );
    const [head, json] = answer.split("\r\n\r\n");
    assert(head!.startsWith("HTTP/1.1 200"), head);
    assert(!/^content-encoding:/im.test(head!), head);
    assertEquals(JSON.parse(json!).message, "x".repeat(500));
  });
}
