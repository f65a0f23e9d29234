/**
 * The history outlives the server: a restart, a `kill -9`, and a database
 * that cannot be opened at all.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { SqliteStore } from "../lib/store/sqlite.ts";
import { runMain, startChildServer } from "./_child_server.ts";
import {
  type Frame,
  openClient,
  readReply,
  startServer,
  tempDir,
} from "./_helpers.ts";

/** Every message of a room, read page by page with `after`. */
async function readAll(httpUrl: string, roomId: string): Promise<Frame[]> {
  const messages: Frame[] = [];
  for (let after = 0;;) {
    const reply = await readReply(
      await fetch(`${httpUrl}/receive`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ room_id: roomId, after }),
      }),
    );
    messages.push(...reply.body.messages);
    if (!reply.body.has_more) return messages;
    after = messages.at(-1)!.id;
  }
}

Deno.test("A server on an SQLite file keeps its history across a restart", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/chat.db`;
  const start = () => startServer({ store: new SqliteStore({ path }) });

  let before: { rest: Frame[]; ws: Frame[]; wsRoom: Frame };
  {
    await using chat = await start();
    for (const message of ["one", "two"]) {
      await chat.post("/send", { room_id: "rest", from: "Ann", message });
    }
    const client = await chat.connect();
    await client.join("ws", "Bob");
    for (const message of ["three", "four"]) {
      client.send({
        type: "send-message",
        room_id: "ws",
        from: "Bob",
        message,
      });
      await client.next();
    }
    before = {
      rest: (await chat.post("/receive", { room_id: "rest" })).body.messages,
      ws: (await chat.post("/receive", { room_id: "ws" })).body.messages,
      wsRoom: (await chat.get("/rooms/ws")).body,
    };
  }

  await using chat = await start();
  assertEquals((await chat.get("/rooms")).body, { rooms: ["rest", "ws"] });
  assertEquals(
    (await chat.post("/receive", { room_id: "rest" })).body.messages,
    before.rest,
  );
  assertEquals(
    (await chat.post("/receive", { room_id: "ws" })).body.messages,
    before.ws,
  );
  assertEquals((await chat.get("/rooms/ws")).body, {
    ...before.wsRoom,
    members: [],
  });
  assertEquals(before.ws.map((message) => message.id), [3, 4]);

  const next = await chat.post("/send", {
    room_id: "ws",
    from: "Bob",
    message: "five",
  });
  assertEquals(next.body.id, 5, "ids continue");
  const client = await chat.connect();
  client.send({ type: "join-room", room_id: "ws", from: "Bob", since: 3 });
  assertEquals(
    (await client.take(3)).map((frame) => frame.message ?? frame.type),
    [
      "four",
      "five",
      "join-room",
    ],
  );
});

Deno.test("main.ts keeps every acknowledged message through kill -9", async () => {
  await using dir = await tempDir();
  const db = `${dir.path}/chat.db`;
  /** What a client received, or POST /send answered 200: id → message. */
  const acknowledged = new Map<number, string>();

  {
    await using server = await startChildServer(["--db", db]);
    assert(server.output().includes(`History:   ${db}`), server.output());
    const watcher = await openClient(server.wsUrl);
    await watcher.join("crash", "Watcher");
    const writer = await openClient(server.wsUrl);
    await writer.join("crash", "Writer");

    for (let i = 0; i < 3000; i++) {
      writer.send({
        type: "send-message",
        room_id: "crash",
        from: "Writer",
        message: `ws ${i}`,
      });
    }
    const posting = Array.from({ length: 4 }, async (_, lane) => {
      for (let i = 0;; i++) {
        const message = `rest ${lane}.${i}`;
        try {
          const response = await fetch(`${server.httpUrl}/send`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ room_id: "crash", from: "Poster", message }),
          });
          const reply = await readReply(response);
          if (reply.status === 200) acknowledged.set(reply.body.id, message);
        } catch {
          return; // the server is gone
        }
      }
    });

    let received = 0;
    while (received < 500) {
      const frame = await watcher.next();
      if (frame.type !== "receive-message") continue;
      acknowledged.set(frame.id, frame.message);
      received++;
    }
    await server.stop("SIGKILL");
    await Promise.all(posting);
    await Promise.all([watcher.closed, writer.closed]);
    for (const frame of [...watcher.received(), ...writer.received()]) {
      if (frame.type === "receive-message") {
        acknowledged.set(frame.id, frame.message);
      }
    }
  }

  await using server = await startChildServer(["--db", db]);
  const stored = new Map(
    (await readAll(server.httpUrl, "crash")).map((m) => [m.id, m.message]),
  );
  const lost = [...acknowledged].filter(([id, message]) =>
    stored.get(id) !== message
  );
  assertEquals(
    lost,
    [],
    `${lost.length} of ${acknowledged.size} acknowledged messages lost`,
  );
  const response = await fetch(`${server.httpUrl}/send`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ room_id: "crash", from: "A", message: "after" }),
  });
  const { body } = await readReply(response);
  assert(body.id > Math.max(...stored.keys()), "ids continue after the crash");
});

Deno.test("main.ts refuses a database it cannot open, naming it", async (t) => {
  await using dir = await tempDir();
  const corrupt = `${dir.path}/corrupt.db`;
  await Deno.writeTextFile(corrupt, "not SQLite at all\n".repeat(50));
  const plainFile = `${dir.path}/plain.txt`;
  await Deno.writeTextFile(plainFile, "");

  const cases = [
    { what: "a corrupt file", path: corrupt },
    {
      what: "a path whose directory cannot be made",
      path: `${plainFile}/chat.db`,
    },
  ];
  for (const { what, path } of cases) {
    await t.step(what, async () => {
      const { code, stdout, stderr } = await runMain(["--db", path]);
      assertEquals(code, 1);
      assertEquals(stdout, "", "it never listened");
      assert(
        stderr.startsWith(`error: Cannot open the message database "${path}"`),
        stderr,
      );
      assert(stderr.includes("--db :memory:"), stderr);
      assert(!/^\s+at /m.test(stderr), `no stack trace:\n${stderr}`);
    });
  }
});
