import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { readReply } from "./_helpers.ts";
import { TARGETS } from "./_targets.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const UPGRADE = { upgrade: "websocket", connection: "Upgrade" };

for (const target of TARGETS) {
  Deno.test(`POST /send (${target.name})`, async (t) => {
    await using chat = await target.start();

    await t.step("answers with the stored message", async () => {
      const before = Date.now() / 1000;
      const reply = await chat.post("/send", {
        room_id: "Will Test Room",
        from: "Will Hall",
        message: "Hello, what are you doing at 17:00 on Wednesday?",
      });
      assertEquals(reply.status, 200);
      assertEquals(reply.headers.get("content-type"), "application/json");
      assertEquals(Object.keys(reply.body), [
        "room_id",
        "from",
        "message",
        "sent_at",
        "id",
      ]);
      assertEquals(
        reply.body.message,
        "Hello, what are you doing at 17:00 on Wednesday?",
      );
      const { sent_at } = reply.body;
      assert(sent_at >= before - 1 && sent_at <= Date.now() / 1000 + 1);
      assert(!Number.isInteger(sent_at * 1000), "sub-millisecond digits");
    });

    await t.step("gives strictly increasing ids", async () => {
      const ids = [];
      for (const room_id of ["a", "b", "a"]) {
        const reply = await chat.post("/send", {
          room_id,
          from: "W",
          message: "m",
        });
        ids.push(reply.body.id);
      }
      assert(ids[0] < ids[1] && ids[1] < ids[2], `ids ${ids}`);
    });

    await t.step("delivers the message live to WebSocket members", async () => {
      const client = await chat.connect();
      await client.join("live", "Listener");
      const reply = await chat.post("/send", {
        room_id: "live",
        from: "Curl",
        message: "from REST",
      });
      assertEquals(await client.next(), {
        type: "receive-message",
        ...reply.body,
      });
    });
  });

  Deno.test(`POST /receive (${target.name})`, async (t) => {
    await using chat = await target.start();

    await t.step("an unknown room has no messages", async () => {
      const reply = await chat.post("/receive", { room_id: "Will Test Room" });
      assertEquals(reply.status, 200);
      assertEquals(reply.body, {
        room_id: "Will Test Room",
        messages: [],
        has_more: false,
      });
    });

    await t.step(
      "returns REST and WebSocket messages, oldest first",
      async () => {
        const sent = await chat.post("/send", {
          room_id: "r",
          from: "A",
          message: "1",
        });
        const client = await chat.connect();
        await client.join("r", "B");
        client.send({
          type: "send-message",
          room_id: "r",
          from: "B",
          message: "2",
        });
        const live = await client.next();
        const reply = await chat.post("/receive", { room_id: "r" });
        const { type: _, ...fromSocket } = live;
        assertEquals(reply.body, {
          room_id: "r",
          messages: [sent.body, fromSocket],
          has_more: false,
        });
      },
    );
  });

  Deno.test(`GET /rooms (${target.name})`, async (t) => {
    await using chat = await target.start();

    await t.step("is empty at first", async () => {
      const reply = await chat.get("/rooms");
      assertEquals(reply.status, 200);
      assertEquals(reply.body, { rooms: [], has_more: false });
    });

    await t.step(
      "lists rooms with messages in order of first message",
      async () => {
        const client = await chat.connect();
        await client.join("only members", "W");
        for (const room_id of ["b", "a", "b", "c"]) {
          await chat.post("/send", { room_id, from: "W", message: "m" });
        }
        await client.join("c2", "W");
        client.send({
          type: "send-message",
          room_id: "c2",
          from: "W",
          message: "m",
        });
        await client.next();
        assertEquals((await chat.get("/rooms")).body, {
          rooms: ["b", "a", "c", "c2"],
          has_more: false,
        });
      },
    );

    await t.step("page by page with limit and after", async () => {
      const first = await chat.get("/rooms?limit=3");
      assertEquals(first.body.rooms, ["b", "a", "c"]);
      assertEquals(first.body.has_more, true);
      assertEquals(typeof first.body.next, "string");
      const second = await chat.get(`/rooms?limit=3&after=${first.body.next}`);
      assertEquals(second.body, { rooms: ["c2"], has_more: false });
    });

    await t.step("refuses bad query values with 400", async () => {
      const cases = [
        ["limit=0", "limit must be from 1 to 1000"],
        ["limit=1001", "limit must be from 1 to 1000"],
        ["limit=1.5", "limit must be a whole number"],
        ["limit=ten", "limit must be a number"],
        ["limit=", "limit must be a number"],
        ["after=x1", "after must be the next of an earlier GET /rooms page"],
        ["after=-1", "after must be the next of an earlier GET /rooms page"],
      ];
      for (const [query, error] of cases) {
        const reply = await chat.get(`/rooms?${query}`);
        assertEquals([reply.status, reply.body], [400, { error }], query);
      }
    });

    await t.step("ignores other parameters", async () => {
      const reply = await chat.get("/rooms?_=1730758663&room_id=general");
      assertEquals(reply.body.rooms, ["b", "a", "c", "c2"]);
    });
  });

  Deno.test(`GET /rooms/{room_id} (${target.name})`, async (t) => {
    await using chat = await target.start();

    await t.step("describes members and messages", async () => {
      const ann = await chat.connect();
      const bob = await chat.connect();
      await ann.join("a room/with slash", "Ann");
      await bob.join("a room/with slash", "Bob");
      const sent = await chat.post("/send", {
        room_id: "a room/with slash",
        from: "Ann",
        message: "hi",
      });
      const reply = await chat.get(
        `/rooms/${encodeURIComponent("a room/with slash")}`,
      );
      assertEquals(reply.status, 200);
      assertEquals(reply.body, {
        room_id: "a room/with slash",
        members: ["Ann", "Bob"],
        message_count: 1,
        last_message_at: sent.body.sent_at,
      });
      await bob.close();
      const deadline = Date.now() + 2000;
      let members;
      do {
        members =
          (await chat.get("/rooms/a%20room%2Fwith%20slash")).body.members;
      } while (members.length > 1 && Date.now() < deadline);
      assertEquals(members, ["Ann"]);
    });

    await t.step("a room with members only has no last message", async () => {
      const client = await chat.connect();
      await client.join("quiet", "Q");
      assertEquals((await chat.get("/rooms/quiet")).body, {
        room_id: "quiet",
        members: ["Q"],
        message_count: 0,
        last_message_at: null,
      });
    });

    await t.step("an unknown room is 404 with a JSON error", async () => {
      const reply = await chat.get("/rooms/nowhere");
      assertEquals(reply.status, 404);
      assertEquals(reply.body, {
        error: 'Room "nowhere" not found: it has no members and no messages',
      });
    });
  });

  Deno.test(`REST errors (${target.name})`, async (t) => {
    await using chat = await target.start({ "max-body-bytes": 1024 });
    const cases: [string, () => Promise<Response>, number, string][] = [
      [
        "invalid JSON",
        () => post("/send", "{room_id: general}"),
        400,
        "request body is not valid JSON: ",
      ],
      [
        "an empty body",
        () => post("/receive", ""),
        400,
        "request body is empty: ",
      ],
      [
        "a JSON array",
        () => post("/receive", "[]"),
        400,
        "expected a JSON object, not an array",
      ],
      [
        "a missing field",
        () => post("/send", '{"from":"W","message":"m"}'),
        400,
        "room_id not provided",
      ],
      [
        "an empty field",
        () => post("/send", '{"room_id":"","from":"W","message":"m"}'),
        400,
        "room_id must not be empty",
      ],
      [
        "a field of the wrong type",
        () => post("/send", '{"room_id":"r","from":"W","message":5}'),
        400,
        "message must be a string",
      ],
      [
        "an unknown field",
        () => post("/receive", '{"room_id":"r","x":1}'),
        400,
        'unknown field "',
      ],
      [
        "a name over its limit",
        () =>
          post(
            "/send",
            JSON.stringify({
              room_id: "r",
              from: "n".repeat(51),
              message: "m",
            }),
          ),
        400,
        "from must be at most 50 characters",
      ],
      [
        "an unknown path",
        () => fetch(`${chat.httpUrl}/nope`),
        404,
        "Endpoint not found",
      ],
      [
        "the root path",
        () => fetch(`${chat.httpUrl}/sendx`),
        404,
        "Endpoint not found",
      ],
      [
        "a wrong method",
        () => fetch(`${chat.httpUrl}/send`),
        405,
        "GET /send is not supported: use POST /send",
      ],
      [
        "POST to a GET route",
        () => post("/rooms", "{}"),
        405,
        "POST /rooms is not supported: use GET /rooms",
      ],
      [
        "no Content-Type",
        () => fetch(`${chat.httpUrl}/send`, { method: "POST", body: "{}" }),
        415,
        "Content-Type must be application/json",
      ],
      [
        "a text Content-Type",
        () => post("/send", "{}", { "content-type": "text/plain" }),
        415,
        "Content-Type must be application/json",
      ],
      [
        "a declared body over the limit",
        () =>
          post(
            "/send",
            JSON.stringify({
              room_id: "r",
              from: "W",
              message: "m".repeat(2000),
            }),
          ),
        413,
        "request body is larger than the limit of 1024 bytes",
      ],
      [
        "a streamed body over the limit",
        () => post("/send", streamOf(2000)),
        413,
        "request body is larger than the limit of 1024 bytes",
      ],
      [
        "malformed URL encoding",
        () => fetch(`${chat.httpUrl}/rooms/%E0%A4%A`),
        400,
        "room_id in the path is not valid URL encoding",
      ],
      [
        "a room_id over its limit in the path",
        () => fetch(`${chat.httpUrl}/rooms/${"r".repeat(101)}`),
        400,
        "room_id must be at most 100 characters",
      ],
      [
        "a WebSocket upgrade without Connection: Upgrade",
        () => fetch(chat.httpUrl, { headers: { upgrade: "websocket" } }),
        400,
        'Invalid WebSocket upgrade: the Connection header must contain "Upgrade"',
      ],
      [
        "a WebSocket upgrade without a key",
        () => fetch(chat.httpUrl, { headers: UPGRADE }),
        400,
        "Invalid WebSocket upgrade: the Sec-WebSocket-Key header is missing",
      ],
      [
        "a WebSocket upgrade to another version",
        () =>
          fetch(chat.httpUrl, {
            headers: {
              ...UPGRADE,
              "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
              "sec-websocket-version": "8",
            },
          }),
        426,
        "Invalid WebSocket upgrade: the Sec-WebSocket-Version header must be 13",
      ],
    ];

    function post(
      path: string,
      body: BodyInit,
      headers: HeadersInit = JSON_HEADERS,
    ) {
      return fetch(chat.httpUrl + path, { method: "POST", headers, body });
    }

    for (const [what, request, status, error] of cases) {
      await t.step(`${what} is ${status} with a JSON error`, async () => {
        const reply = await readReply(await request());
        assertEquals(reply.status, status);
        assertEquals(reply.headers.get("access-control-allow-origin"), "*");
        assert(
          typeof reply.body.error === "string" &&
            reply.body.error.startsWith(error),
          `${JSON.stringify(reply.body)} should start with ${error}`,
        );
        if (status === 405) {
          assert(reply.headers.get("allow")?.includes("OPTIONS"));
        }
        if (status === 426) {
          assertEquals(reply.headers.get("sec-websocket-version"), "13");
        }
      });
    }

    await t.step("the server keeps serving and stored nothing", async () => {
      assertEquals((await chat.get("/rooms")).body.rooms, []);
      const reply = await chat.post("/send", {
        room_id: "r",
        from: "W",
        message: "ok",
      });
      assertEquals(reply.status, 200);
    });
  });

  Deno.test(`CORS (${target.name})`, async (t) => {
    await using chat = await target.start();

    await t.step("a preflight on a known path is answered", async () => {
      const response = await fetch(`${chat.httpUrl}/send`, {
        method: "OPTIONS",
        headers: {
          origin: "http://localhost:5500",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      await response.body?.cancel();
      assertEquals(response.status, 204);
      assertEquals(response.headers.get("access-control-allow-origin"), "*");
      assert(
        response.headers.get("access-control-allow-methods")?.includes("POST"),
      );
      assertEquals(
        response.headers.get("access-control-allow-headers"),
        "Content-Type",
      );
    });

    await t.step("every answer allows any origin", async () => {
      const reply = await chat.get("/rooms");
      assertEquals(reply.headers.get("access-control-allow-origin"), "*");
    });
  });

  Deno.test(`CORS with --allowed-origins (${target.name})`, async (t) => {
    const listed = "https://chat.example";
    await using chat = await target.start({
      "allowed-origins": [listed, "http://localhost:5500"],
    });
    const corsOf = async (path: string, init: RequestInit) => {
      const response = await fetch(`${chat.httpUrl}${path}`, init);
      await response.body?.cancel();
      return {
        status: response.status,
        origin: response.headers.get("access-control-allow-origin"),
        // Whether Vary names Origin (Deno adds Accept-Encoding to it).
        varyOrigin: (response.headers.get("vary") ?? "").split(",")
          .some((name) => name.trim().toLowerCase() === "origin"),
      };
    };
    const preflight = (origin: string) =>
      corsOf("/send", {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });

    await t.step("a listed origin is named, with Vary: Origin", async () => {
      assertEquals(await corsOf("/rooms", { headers: { origin: listed } }), {
        status: 200,
        origin: listed,
        varyOrigin: true,
      });
      assertEquals((await preflight(listed)).origin, listed);
    });

    await t.step("another origin is not allowed to read or send", async () => {
      const evil = "https://evil.example";
      assertEquals(await corsOf("/rooms", { headers: { origin: evil } }), {
        status: 200,
        origin: null,
        varyOrigin: true,
      });
      assertEquals((await preflight(evil)).origin, null);
      assertEquals(
        (await corsOf("/nowhere", { headers: { origin: evil } })).origin,
        null,
      );
    });

    await t.step(
      "a request without Origin (not a browser) is answered",
      async () => {
        assertEquals((await corsOf("/rooms", {})).status, 200);
      },
    );
  });
}

/** A request body that arrives in chunks, with no Content-Length. */
function streamOf(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      controller.enqueue(new TextEncoder().encode("x".repeat(100)));
      sent += 100;
    },
  });
}
