import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { runMain, startChildServer } from "./_child_server.ts";
import { openClient, readReply, within } from "./_helpers.ts";

Deno.test("main.ts serves REST and WebSocket on the printed address", async () => {
  await using server = await startChildServer();
  assert(
    server.output().includes(`HTTP:      ${server.httpUrl}`),
    server.output(),
  );

  const reply = await readReply(await fetch(`${server.httpUrl}/rooms`));
  assertEquals(reply.body, { rooms: [] });

  const client = await openClient(server.wsUrl);
  try {
    assertEquals(await client.join("general", "Will"), [
      { type: "join-room", room_id: "general", from: "Will" },
    ]);
  } finally {
    await client.close();
  }
});

Deno.test("main.ts exits 0 on SIGTERM and SIGINT", async (t) => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    await t.step(signal, async () => {
      await using server = await startChildServer();
      const client = await openClient(server.wsUrl);
      await client.join("general", "Will");
      const status = await server.stop(signal);
      assertEquals(status.code, 0);
      const closed = await within(client.closed, "the socket to close");
      assertEquals([closed.code, closed.reason], [
        1001,
        "server shutting down",
      ]);
    });
  }
});

Deno.test("main.ts --help lists the options and exits 0", async () => {
  const { code, stdout } = await runMain(["--help"]);
  const help = new TextDecoder().decode(stdout);
  assertEquals(code, 0);
  for (const option of ["--port", "--host", "--join-history", "PORT", "HOST"]) {
    assert(help.includes(option), `${option} in:\n${help}`);
  }
});

Deno.test("main.ts refuses a bad option with exit code 2", async () => {
  const { code, stderr } = await runMain(["--port", "nope"]);
  assertEquals(code, 2);
  assertEquals(
    new TextDecoder().decode(stderr).trim(),
    'error: --port must be a whole number from 0 to 65535, not "nope"',
  );
});
