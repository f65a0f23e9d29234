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
import {
  runToEnd,
  SERVER_COMMANDS,
  startChildServer,
} from "./_child_server.ts";
import { type Frame, openClient, readReply, tempDir } from "./_helpers.ts";
import { flagArgs, NO_RATE_LIMITS, processTarget } from "./_targets.ts";

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

for (const command of SERVER_COMMANDS) {
  const target = processTarget(command);

  Deno.test(`The server keeps its history across a restart (${command.name})`, async () => {
    await using dir = await tempDir();
    const start = () => target.start({ db: `${dir.path}/chat.db` });

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
    assertEquals((await chat.get("/rooms")).body.rooms, ["rest", "ws"]);
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

  Deno.test(`main.ts keeps every acknowledged message through kill -9 (${command.name})`, async () => {
    await using dir = await tempDir();
    const db = `${dir.path}/chat.db`;
    /** What a client received, or POST /send answered 200: id → message. */
    const acknowledged = new Map<number, string>();

    {
      // No rate limit: the more messages in flight at the kill, the better.
      await using child = await startChildServer(command, [
        "--db",
        db,
        ...flagArgs(NO_RATE_LIMITS),
      ]);
      assert(child.output().includes(`History:   ${db}`), child.output());
      const watcher = await openClient(child.wsUrl);
      await watcher.join("crash", "Watcher");
      const writer = await openClient(child.wsUrl);
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
            const response = await fetch(`${child.httpUrl}/send`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                room_id: "crash",
                from: "Poster",
                message,
              }),
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
      await child.stop("SIGKILL");
      await Promise.all(posting);
      await Promise.all([watcher.closed, writer.closed]);
      for (const frame of [...watcher.received(), ...writer.received()]) {
        if (frame.type === "receive-message") {
          acknowledged.set(frame.id, frame.message);
        }
      }
    }

    await using child = await startChildServer(command, ["--db", db]);
    const stored = new Map(
      (await readAll(child.httpUrl, "crash")).map((m) => [m.id, m.message]),
    );
    const lost = [...acknowledged].filter(([id, message]) =>
      stored.get(id) !== message
    );
    assertEquals(
      lost,
      [],
      `${lost.length} of ${acknowledged.size} acknowledged messages lost`,
    );
    const response = await fetch(`${child.httpUrl}/send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ room_id: "crash", from: "A", message: "after" }),
    });
    const { body } = await readReply(response);
    assert(
      body.id > Math.max(...stored.keys()),
      "ids continue after the crash",
    );
  });

  Deno.test(`main.ts refuses a database it cannot open, naming it (${command.name})`, async (t) => {
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
        const { code, stdout, stderr } = await runToEnd(command, [
          "--db",
          path,
        ]);
        assertEquals(code, 1);
        assertEquals(stdout, "", "it never listened");
        assert(
          stderr.startsWith(
            `error: Cannot open the message database "${path}"`,
          ),
          stderr,
        );
        assert(stderr.includes("--db :memory:"), stderr);
        assert(!/^\s+at /m.test(stderr), `no stack trace:\n${stderr}`);
      });
    }
  });

  Deno.test(`Retention prunes at start-up, by count and by age (${command.name})`, async (t) => {
    await using dir = await tempDir();
    const db = `${dir.path}/chat.db`;
    {
      await using chat = await target.start({ db });
      for (const message of ["m0", "m1", "m2", "m3", "m4"]) {
        await chat.post("/send", { room_id: "busy", from: "A", message });
      }
      await chat.post("/send", { room_id: "quiet", from: "A", message: "hi" });
    }
    const sentAt = Date.now();

    await t.step("by count, the oldest first", async () => {
      await using chat = await target.start({ db, "history-max": 3 });
      const busy = () => chat.post("/receive", { room_id: "busy" });
      const deadline = Date.now() + 3000;
      while ((await busy()).body.messages.length > 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assertEquals(
        (await busy()).body.messages.map((message: Frame) => message.message),
        ["m2", "m3", "m4"],
      );
      assertEquals((await chat.get("/rooms/busy")).body.message_count, 3);
    });

    await t.step("by age, and rooms left empty disappear", async () => {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, sentAt + 1100 - Date.now()))
      );
      await using chat = await target.start({ db, "history-ttl": "1s" });
      const deadline = Date.now() + 3000;
      while (
        (await chat.get("/rooms")).body.rooms.length > 0 &&
        Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assertEquals((await chat.get("/rooms")).body.rooms, []);
      assertEquals((await chat.get("/rooms/busy")).status, 404);
      await chat.post("/send", {
        room_id: "quiet",
        from: "A",
        message: "back",
      });
      assertEquals((await chat.get("/rooms")).body.rooms, ["quiet"]);
    });
  });
}
