import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { SERVER_COMMANDS, startChildServer } from "./_child_server.ts";
import { openClient, readReply, type TestClient } from "./_helpers.ts";
import { maskedTextFrame, rawWebSocket } from "./_raw_socket.ts";

const MB = 1024 * 1024;

/** The server's resident memory, in bytes, from /proc. */
async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function metric(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
}

/**
 * Sends `count` messages of 4 KB in small batches, each read by `reader`
 * before the next (so a client that does read never falls behind), and
 * returns the names that left the room meanwhile.
 */
async function flood(sender: TestClient, reader: TestClient, count: number) {
  const message = "x".repeat(4000);
  const left: string[] = [];
  let received = 0;
  for (let sent = 0; sent < count;) {
    for (let i = 0; i < 100; i++, sent++) {
      sender.send({
        type: "send-message",
        room_id: "busy",
        from: "Sender",
        message,
      });
    }
    while (received < sent) {
      const frame = await reader.next();
      if (frame.type === "receive-message") received++;
      if (frame.type === "leave-room") left.push(frame.from);
    }
  }
  return left;
}

for (const command of SERVER_COMMANDS) {
  Deno.test(`clients that stop reading are dropped; memory stays bounded (${command.name})`, async () => {
    await using server = await startChildServer(command, [
      "--rate-limit=0",
      "--log-level=warn",
    ]);
    const { pid } = server;
    const reader = await openClient(server.wsUrl);
    const sender = await openClient(server.wsUrl);
    const sloths: Deno.TcpConn[] = [];
    try {
      await reader.join("busy", "Reader");
      await sender.join("busy", "Sender");
      await reader.next();

      // The same traffic twice: first with readers only, then with five
      // members that never read. Unbounded, each would hold 24 MB in the server.
      const start = await rssOf(pid);
      await flood(sender, reader, 6000);
      const withoutSloths = (await rssOf(pid)) - start;

      for (let i = 0; i < 5; i++) {
        const sloth = await rawWebSocket(server.wsUrl);
        sloths.push(sloth);
        const join = { type: "join-room", room_id: "busy", from: `Sloth ${i}` };
        await sloth.write(maskedTextFrame(JSON.stringify(join)));
        assertEquals((await reader.next()).from, `Sloth ${i}`);
      }
      const middle = await rssOf(pid);
      const left = await flood(sender, reader, 6000);
      const withSloths = (await rssOf(pid)) - middle;

      assertEquals(left.sort(), [
        "Sloth 0",
        "Sloth 1",
        "Sloth 2",
        "Sloth 3",
        "Sloth 4",
      ]);
      assert(
        withSloths < withoutSloths + 40 * MB,
        `grew ${withSloths / MB} MB with sloths, ${
          withoutSloths / MB
        } MB without`,
      );
      assertEquals(
        await metric(server.httpUrl, "chat_slow_client_closes_total"),
        5,
      );
      const room = await readReply(await fetch(`${server.httpUrl}/rooms/busy`));
      assertEquals(room.body.members, ["Reader", "Sender"]);
    } finally {
      for (const sloth of sloths) sloth.close();
      await reader.close();
      await sender.close();
    }
  });
}
