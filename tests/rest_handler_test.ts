import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Chat } from "../lib/chat.ts";
import { createRestHandler } from "../lib/http/rest_handler.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import { readReply } from "./_helpers.ts";

function handler() {
  const chat = new Chat({ store: new MemoryStore({ now: () => 1.5 }) });
  return createRestHandler(chat, { maxBodyBytes: 256 });
}

function postJson(path: string, body: string) {
  return new Request(`http://x${path}`, {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8" },
    body,
  });
}

Deno.test("createRestHandler() serves the seed's endpoints", async () => {
  const handleRest = handler();
  const sent = await readReply(
    await handleRest(
      postJson("/send", '{"room_id":"r","from":"W","message":"m"}'),
    ),
  );
  assertEquals(sent.body, {
    room_id: "r",
    from: "W",
    message: "m",
    sent_at: 1.5,
    id: 1,
  });
  const received = await readReply(
    await handleRest(postJson("/receive", '{"room_id":"r"}')),
  );
  assertEquals(received.body, {
    room_id: "r",
    messages: [sent.body],
    has_more: false,
  });
  const rooms = await readReply(
    await handleRest(new Request("http://x/rooms")),
  );
  assertEquals(rooms.body, { rooms: ["r"], has_more: false });
});

Deno.test("createRestHandler() answers routing errors in JSON", async (t) => {
  const handleRest = handler();
  const cases: [Request, number, string | null, string | null][] = [
    [new Request("http://x/nowhere"), 404, "Endpoint not found", null],
    [new Request("http://x/app.js/"), 404, "Endpoint not found", null],
    [new Request("http://x/rooms/"), 404, "Endpoint not found", null],
    [
      new Request("http://x/receive"),
      405,
      "GET /receive is not supported: use POST /receive",
      "POST, OPTIONS",
    ],
    [
      new Request("http://x/rooms/r", { method: "DELETE" }),
      405,
      "DELETE /rooms/r is not supported: use GET /rooms/r",
      "GET, HEAD, OPTIONS",
    ],
    ...["toString", "constructor", "__proto__", "hasOwnProperty"].map((
      method,
    ): [Request, number, string, string] => [
      new Request("http://x/send", { method }),
      405,
      `${method} /send is not supported: use POST /send`,
      "POST, OPTIONS",
    ]),
    [
      new Request("http://x/send", { method: "OPTIONS" }),
      204,
      null,
      "POST, OPTIONS",
    ],
    [
      postJson("/send", `{"message":"${"m".repeat(300)}"}`),
      413,
      "request body is larger than the limit of 256 bytes",
      null,
    ],
    [
      new Request("http://x/send", { method: "HEAD" }),
      405,
      "HEAD /send is not supported: use POST /send",
      "POST, OPTIONS",
    ],
  ];
  for (const [request, status, error, allow] of cases) {
    await t.step(
      `${request.method} ${new URL(request.url).pathname} is ${status}`,
      async () => {
        const reply = await readReply(await handleRest(request));
        assertEquals(reply.status, status);
        assertEquals(reply.body?.error ?? null, error);
        assertEquals(reply.headers.get("allow"), allow);
      },
    );
  }
});

Deno.test("createRestHandler() serves the chat page's files", async (t) => {
  const handleRest = handler();
  const files = [
    ["/", "index.html", "text/html; charset=utf-8"],
    ["/style.css", "style.css", "text/css; charset=utf-8"],
    ["/app.js", "app.js", "text/javascript; charset=utf-8"],
  ];
  for (const [path, file, type] of files) {
    await t.step(`GET ${path}`, async () => {
      const response = await handleRest(new Request(`http://x${path}`));
      assertEquals(response.status, 200);
      assertEquals(response.headers.get("content-type"), type);
      assertEquals(response.headers.get("x-content-type-options"), "nosniff");
      const policy = response.headers.get("content-security-policy") ?? "";
      assertEquals(policy.includes("script-src 'self';"), true, policy);
      const onDisk = await Deno.readTextFile(
        new URL(`../public/${file}`, import.meta.url),
      );
      assertEquals(await response.text(), onDisk);
    });
  }
  await t.step("POST / is 405", async () => {
    const reply = await readReply(
      await handleRest(new Request("http://x/", { method: "POST" })),
    );
    assertEquals(reply.status, 405);
    assertEquals(reply.body, { error: "POST / is not supported: use GET /" });
  });
});
