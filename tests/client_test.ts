import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { startServer, within } from "./_helpers.ts";

const CLIENT = new URL("../scripts/client.ts", import.meta.url).pathname;

/** Arguments that join "general" as Will on the server at `url`. */
function joining(url: string): string[] {
  return ["--room", "general", "--name", "Will", "--url", url];
}

/** The terminal client in a child process, its stdin and stdout piped. */
class ClientProcess implements AsyncDisposable {
  readonly #process: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reading: Promise<void>;
  readonly #stderr: Promise<string>;
  #ended: Promise<{ code: number; stderr: string }> | undefined;
  #output = "";
  #changed = Promise.withResolvers<void>();

  constructor(args: string[]) {
    const process = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", CLIENT, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#process = process;
    this.#stdin = process.stdin.getWriter();
    this.#stderr = new Response(process.stderr).text();
    this.#reading = (async () => {
      const stdout = process.stdout.pipeThrough(new TextDecoderStream());
      for await (const chunk of stdout) {
        this.#output += chunk;
        this.#changed.resolve();
        this.#changed = Promise.withResolvers();
      }
    })();
  }

  /** Everything printed so far. */
  get output(): string {
    return this.#output;
  }

  /** Types lines, as if Enter was pressed after each. */
  async type(...lines: string[]): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  }

  /** Waits until the output has a line matching `pattern`. */
  async waitFor(pattern: RegExp): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!this.#output.split("\n").some((line) => pattern.test(line))) {
      const left = deadline - Date.now();
      await within(
        this.#changed.promise,
        `${pattern} in:\n${this.#output}`,
        left,
      );
    }
  }

  /** Closes stdin (Ctrl-D) and waits for the exit; returns the status. */
  end(): Promise<{ code: number; stderr: string }> {
    return this.#ended ??= (async () => {
      await this.#stdin.close().catch(() => {}); // it may have exited
      const [status, stderr] = await within(
        Promise.all([this.#process.status, this.#stderr, this.#reading]),
        "the client to exit",
        10_000,
      );
      return { code: status.code, stderr };
    })();
  }

  async [Symbol.asyncDispose]() {
    try {
      this.#process.kill("SIGKILL");
    } catch {
      // It has already exited.
    }
    await this.end();
  }
}

Deno.test("scripts/client.ts chats through a pipe", async (t) => {
  await using chat = await startServer();
  await chat.post("/send", { room_id: "general", from: "Ann", message: "hi" });
  const ann = await chat.connect();
  await ann.join("general", "Ann");
  await using client = new ClientProcess(joining(chat.wsUrl));

  await t.step("prints the history, then its own join", async () => {
    await client.waitFor(/^\[general\] \* Will joined$/);
    assert(/^\[general\] \d\d:\d\d Ann: hi$/m.test(client.output));
  });

  await t.step("sends each typed line to the room", async () => {
    await client.type("Hello <b>everyone</b>");
    await client.waitFor(/^\[general\] \d\d:\d\d Will: Hello <b>everyone<\/b>/);
    const frames = await ann.take(2);
    assertEquals(frames[0], {
      type: "join-room",
      room_id: "general",
      from: "Will",
    });
    assertEquals(frames[1]!.message, "Hello <b>everyone</b>");
  });

  await t.step("prints live messages", async () => {
    ann.send({
      type: "send-message",
      room_id: "general",
      from: "Ann",
      message: "welcome",
    });
    await client.waitFor(/^\[general\] \d\d:\d\d Ann: welcome$/);
  });

  await t.step("/join, then lines go to the new room", async () => {
    await client.type("/join random", "over here");
    await client.waitFor(/^\[random\] \d\d:\d\d Will: over here$/);
  });

  await t.step("/rooms lists the rooms", async () => {
    await client.type("/rooms");
    await client.waitFor(/^rooms: general, random$/);
  });

  await t.step("/leave, with the server's confirmation", async () => {
    await client.type("/leave random", "back in general");
    await client.waitFor(/^\[random\] \* Will left$/);
    await client.waitFor(/^\[general\] \d\d:\d\d Will: back in general$/);
  });

  await t.step("shows refusals and mistakes in words", async () => {
    await client.type("/leave random", "/join", "/shout");
    await client.waitFor(
      /^! Cannot leave room "random": you have not joined it$/,
    );
    await client.waitFor(/^! usage: \/join ROOM$/);
    await client.waitFor(/^! unknown command \/shout: use \/join ROOM/);
  });

  await t.step("exits 0 on Ctrl-D, and the room hears it leave", async () => {
    const { code, stderr } = await client.end();
    assertEquals([code, stderr], [0, ""]);
    const frames = await ann.take(3);
    assertEquals(frames.map((frame) => frame.message ?? frame.type), [
      "welcome",
      "back in general",
      "leave-room",
    ]);
    assertEquals(frames[2], {
      type: "leave-room",
      room_id: "general",
      from: "Will",
    });
  });
});

Deno.test("scripts/client.ts exits 0 on /quit", async () => {
  await using chat = await startServer();
  await using client = new ClientProcess(joining(chat.wsUrl));
  await client.type("/quit", "never sent");
  const { code } = await client.end();
  assertEquals(code, 0);
  assertEquals((await chat.post("/receive", { room_id: "general" })).body, {
    room_id: "general",
    messages: [],
    has_more: false,
  });
});

Deno.test("scripts/client.ts refuses bad arguments with exit code 2", async (t) => {
  const cases: [string[], string][] = [
    [["--name", "Will"], "error: --room ROOM is required"],
    [["--room", "general"], "error: --name NAME is required"],
    [["--room", " ", "--name", "Will"], "error: --room ROOM is required"],
    [
      ["--room", "general", "--name", "Will", "--url", "http://localhost"],
      'error: --url must be a WebSocket address such as ws://localhost:3000, not "http://localhost"',
    ],
    [
      ["--room", "general", "--name", "Will", "--shout"],
      "error: Unknown option '--shout'",
    ],
  ];
  for (const [args, error] of cases) {
    await t.step(args.join(" "), async () => {
      await using client = new ClientProcess(args);
      const { code, stderr } = await client.end();
      assertEquals(code, 2);
      assert(stderr.startsWith(error), stderr);
      assert(stderr.includes("Usage: deno task client"), stderr);
    });
  }
});

Deno.test("scripts/client.ts says when the server cannot be reached", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close(); // nothing listens on this port now
  await using client = new ClientProcess(joining(`ws://127.0.0.1:${port}`));
  const { code, stderr } = await client.end();
  assertEquals(code, 1);
  assertEquals(
    stderr.trim(),
    `error: Could not connect to ws://127.0.0.1:${port}: is the server running?`,
  );
});

Deno.test("scripts/client.ts prints control characters escaped", async (t) => {
  // A server whose frames and room list carry control characters: the
  // chat server refuses them in names and rooms, but a client must not
  // trust any server to.
  const room = "r\x1b[31m";
  const frames = [
    { type: "join-room", room_id: "r", from: "Will" },
    { type: "join-room", room_id: room, from: "Eve\x1b[2K" },
    {
      type: "receive-message",
      room_id: room,
      from: "Ann\u202e",
      message: "\x1b[2J\x1b]0;pwned\x07\n[r] 12:00 Admin: trust me\r\x9b1A",
      sent_at: 1_700_000_000,
      id: 1,
    },
  ];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      if (request.headers.get("upgrade") !== "websocket") {
        return Response.json({ rooms: [room, "\x1b]0;title\x07"] });
      }
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = () => {
        for (const frame of frames) socket.send(JSON.stringify(frame));
      };
      return response;
    },
  );
  await using client = new ClientProcess([
    "--room",
    "r",
    "--name",
    "Will",
    "--url",
    `ws://127.0.0.1:${server.addr.port}`,
  ]);

  await t.step("in room ids, names and messages", async () => {
    await client.waitFor(/^\[r\\x1b\[31m\] \* Eve\\x1b\[2K joined$/);
    await client.waitFor(
      /^\[r\\x1b\[31m\] \d\d:\d\d Ann\\u202e: \\x1b\[2J\\x1b\]0;pwned\\x07\\n\[r\] 12:00 Admin: trust me\\r\\x9b1A$/,
    );
  });

  await t.step("in the list of rooms", async () => {
    await client.type("/rooms");
    await client.waitFor(/^rooms: r\\x1b\[31m, \\x1b\]0;title\\x07$/);
  });

  await t.step("and nowhere raw", async () => {
    await client.end();
    // deno-lint-ignore no-control-regex
    const raw = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/.exec(client.output);
    assertEquals(raw, null);
    assert(!client.output.includes("Admin: trust me\n"), client.output);
  });
});

Deno.test("scripts/client.ts refuses a name the server would refuse, without connecting", async () => {
  await using chat = await startServer();
  await using client = new ClientProcess([
    "--room",
    "general",
    "--name",
    "x".repeat(51),
    "--url",
    chat.wsUrl,
  ]);
  const { code, stderr } = await client.end();
  assertEquals(code, 2);
  assert(
    stderr.startsWith("error: --name must be at most 50 characters\n"),
    stderr,
  );
  assertEquals(client.output, "");
  assertEquals((await chat.metrics()).get("chat_connections_opened_total"), 0);
});

Deno.test("scripts/client.ts exits 1 when the server refuses its first join", async () => {
  // A server with a rule of its own: it refuses every join.
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = () =>
        socket.send(
          JSON.stringify({ type: "error", error: 'Room "general" is closed' }),
        );
      return response;
    },
  );
  await using client = new ClientProcess(
    joining(`ws://127.0.0.1:${server.addr.port}`),
  );
  const { code, stderr } = await client.end();
  assertEquals(code, 1);
  assert(client.output.includes('! Room "general" is closed\n'), client.output);
  assertEquals(stderr, 'error: could not join "general" (see above)\n');
});

Deno.test("scripts/client.ts says when the server's host is not found", async () => {
  await using client = new ClientProcess(joining("ws://nowhere.invalid:3000"));
  const { code, stderr } = await client.end();
  assertEquals([code, stderr], [
    1,
    'error: Could not connect to ws://nowhere.invalid:3000: the host "nowhere.invalid" was not found: check --url\n',
  ]);
});
