import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import {
  runToEnd,
  SERVER_COMMANDS,
  startChildServer,
} from "./_child_server.ts";
import { openClient, readReply, within } from "./_helpers.ts";

for (const command of SERVER_COMMANDS) {
  Deno.test(`main.ts serves REST and WebSocket on the printed address (${command.name})`, async () => {
    await using server = await startChildServer(command);
    assert(
      server.output().includes(`HTTP:      ${server.httpUrl}`),
      server.output(),
    );

    const reply = await readReply(await fetch(`${server.httpUrl}/rooms`));
    assertEquals(reply.body, { rooms: [], has_more: false });

    const client = await openClient(server.wsUrl);
    try {
      assertEquals(await client.join("general", "Will"), [
        { type: "join-room", room_id: "general", from: "Will" },
      ]);
    } finally {
      await client.close();
    }
  });

  Deno.test(`main.ts exits 0 on SIGTERM and SIGINT (${command.name})`, async (t) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      await t.step(signal, async () => {
        await using server = await startChildServer(command);
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

  Deno.test(`main.ts --help lists the options and exits 0 (${command.name})`, async () => {
    const { code, stdout: help } = await runToEnd(command, ["--help"]);
    assertEquals(code, 0);
    for (
      const option of ["--port", "--host", "--join-history", "PORT", "HOST"]
    ) {
      assert(help.includes(option), `${option} in:\n${help}`);
    }
  });

  Deno.test(`main.ts refuses a bad option with exit code 2 (${command.name})`, async () => {
    const { code, stderr } = await runToEnd(command, ["--port", "nope"]);
    assertEquals(code, 2);
    assertEquals(
      stderr.trim(),
      'error: --port must be a whole number from 0 to 65535, not "nope"',
    );
  });

  Deno.test(`main.ts says in one line why it cannot listen (${command.name})`, async (t) => {
    using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = busy.addr;
    const cases = [
      {
        what: "a port in use",
        args: ["--port", String(port)],
        code: 1,
        error: `error: port ${port} is already in use on 127.0.0.1: stop ` +
          `the program that listens on it (another chat server?), or ` +
          `choose another port with --port, e.g. --port 3000`,
      },
      {
        what: "a host name that does not resolve",
        args: ["--host", "nowhere.invalid"],
        code: 1,
        error: `error: host "nowhere.invalid" is not a known host name or ` +
          `address: set --host to 0.0.0.0 (every network interface), ` +
          `127.0.0.1 (this machine only) or an IP address of this machine`,
      },
      {
        what: "an address of another machine",
        args: ["--host", "192.0.2.1"], // TEST-NET-1: nobody's address
        code: 1,
        error: `error: host "192.0.2.1" is not an address of this machine: ` +
          `set --host to 0.0.0.0 (every network interface), 127.0.0.1 ` +
          `(this machine only) or an IP address of this machine`,
      },
      {
        what: "a negative port",
        args: ["--port", "-1"],
        code: 2,
        error: 'error: --port must be a whole number from 0 to 65535, not "-1"',
      },
    ];
    for (const { what, args, code, error } of cases) {
      await t.step(what, async () => {
        const result = await runToEnd(command, args);
        assertEquals(
          [result.code, result.stdout, result.stderr],
          [code, "", `${error}\n`],
        );
      });
    }
  });

  Deno.test(`main.ts finishes in-flight requests on SIGTERM, within 5 s (${command.name})`, async () => {
    await using server = await startChildServer(command);
    const body = new TransformStream<Uint8Array, Uint8Array>();
    const writer = body.writable.getWriter();
    const response = fetch(`${server.httpUrl}/send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body.readable,
    });
    await writer.write(
      new TextEncoder().encode('{"room_id": "r", "from": "W", '),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const stopped = server.stop("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writer.write(new TextEncoder().encode('"message": "last words"}'));
    await writer.close();
    const reply = await readReply(await response);
    assertEquals([reply.status, reply.body.message], [200, "last words"]);
    assertEquals((await stopped).code, 0);
    assert(Date.now() - started < 5000);
  });

  Deno.test(`main.ts --log-format json writes one JSON object per event (${command.name})`, async () => {
    await using server = await startChildServer(command, [
      "--log-format",
      "json",
    ]);
    const client = await openClient(server.wsUrl);
    await client.close();
    await server.stop("SIGTERM");
    const events = server.output().split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    const names = events.map((event) => event.event);
    assertEquals([names[0], names.at(-1)], ["server.start", "server.stopped"]);
    assertEquals(names.toSorted(), [
      "connection.close",
      "connection.open",
      "server.shutdown",
      "server.start",
      "server.stopped",
    ]);
    for (const event of events) {
      assert(typeof event.time === "string" && event.level === "info");
    }
    const close = events.find((event) => event.event === "connection.close");
    assertEquals(close.code, 1005);
  });
}
