import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { TARGETS } from "./_targets.ts";
import { maskedTextFrame, rawWebSocket } from "./_raw_socket.ts";

for (const target of TARGETS) {
  Deno.test(`a peer that vanished is dropped after the idle timeout (${target.name})`, async () => {
    await using chat = await target.start({ "idle-timeout": 1 });
    const member = await chat.connect();
    await member.join("r", "Member");
    // A raw TCP client that joins, then never answers a ping: to the server
    // it looks like a peer whose network went away without a close.
    const ghost = await rawWebSocket(chat.wsUrl);
    try {
      const join = { type: "join-room", room_id: "r", from: "Ghost" };
      await ghost.write(maskedTextFrame(JSON.stringify(join)));
      assertEquals((await member.next()).from, "Ghost");
      const started = Date.now();
      assertEquals(await member.next(5000), {
        type: "leave-room",
        room_id: "r",
        from: "Ghost",
      });
      const waited = Date.now() - started;
      assertEquals(
        waited >= 500 && waited < 5000,
        true,
        `dropped after ${waited} ms`,
      );
      assertEquals((await chat.get("/rooms/r")).body.members, ["Member"]);
      assertEquals(
        (await chat.metrics()).get(
          'chat_connections_closed_total{code="1001"}',
        ),
        1,
        "closed as Deno closes it",
      );
    } finally {
      ghost.close();
    }
  });
}
