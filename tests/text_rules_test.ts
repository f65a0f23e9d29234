/**
 * The text rules over the wire: limits count characters (code points), and
 * names, rooms and messages that would deceive a reader or act on a
 * terminal are refused in plain words; what is stored and echoed is NFC.
 *
 * @module
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { TARGETS } from "./_targets.ts";

for (const target of TARGETS) {
  Deno.test(`text rules over REST and WebSocket (${target.name})`, async (t) => {
    await using chat = await target.start();
    const send = (fields: Record<string, string>) =>
      chat.post("/send", { room_id: "r", from: "W", message: "m", ...fields });

    await t.step("a name of 26 emoji is 26 characters", async () => {
      const from = "😀".repeat(26);
      const reply = await send({ from });
      assertEquals([reply.status, reply.body.from], [200, from]);
    });

    await t.step(
      "invisible, reordering and control characters are refused",
      async () => {
        const cases: [Record<string, string>, string][] = [
          [
            { from: "\u200b\u200b" },
            "from must not contain invisible or control characters (U+200B)",
          ],
          [
            { room_id: "admin\u202e" },
            "room_id must not contain invisible or control characters (U+202E)",
          ],
          [
            { from: "\u2800" },
            "from must contain a visible character, not only spaces, marks or invisible characters",
          ],
          [
            { message: "\u001b[2J\u001b]0;pwned\u0007" },
            "message must not contain control characters other than tab and new line (U+001B)",
          ],
        ];
        for (const [fields, error] of cases) {
          const reply = await send(fields);
          assertEquals([reply.status, reply.body], [400, { error }]);
        }
      },
    );

    await t.step("a WebSocket frame gets the same words", async () => {
      const client = await chat.connect();
      client.send({ type: "join-room", room_id: "r", from: "Eve\u202e" });
      assertEquals(await client.next(), {
        type: "error",
        error: "from must not contain invisible or control characters (U+202E)",
      });
    });

    await t.step("names and rooms are stored and echoed in NFC", async () => {
      const client = await chat.connect();
      client.send({
        type: "join-room",
        room_id: "Cafe\u0301",
        from: "Zoe\u0308",
      });
      assertEquals(await client.next(), {
        type: "join-room",
        room_id: "Café",
        from: "Zoë",
      });
      client.send({
        type: "send-message",
        room_id: "Cafe\u0301",
        from: "Zoe\u0308",
        message: "line one\nline two",
      });
      const echo = await client.next();
      assertEquals([echo.room_id, echo.from, echo.message], [
        "Café",
        "Zoë",
        "line one\nline two",
      ]);
      const rooms = (await chat.get("/rooms")).body.rooms;
      assertEquals(rooms.includes("Café"), true);
      assertEquals(rooms.includes("Cafe\u0301"), false);
      const room = await chat.get(`/rooms/${encodeURIComponent("Cafe\u0301")}`);
      assertEquals(room.body.members, ["Zoë"]);
    });
  });
}
