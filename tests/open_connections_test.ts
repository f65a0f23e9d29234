/**
 * A flood of idle connections cannot run the server out of file
 * descriptors: it keeps its connections under its open-file limit, says in
 * its log what the cap is, refuses the connections past it, never stops
 * over an error while accepting, and serves again once the flood is over.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import {
  BUN_BUNDLE,
  BUN_EXECUTABLE_COMMAND,
  DENO_SOURCE,
  type ServerCommand,
  startChildServer,
} from "./_child_server.ts";
import { readReply, startServer } from "./_helpers.ts";
import { closedWithin } from "./_raw_socket.ts";

/** The same command, started under an open-file limit of `limit`. */
function underOpenFileLimit(
  server: ServerCommand,
  limit: number,
): ServerCommand {
  return {
    ...server,
    async command() {
      return [
        "prlimit",
        `--nofile=${limit}:${limit}`,
        "--",
        ...await server.command(),
      ];
    },
  };
}

/** Opens `count` TCP connections that send nothing. */
async function flood(httpUrl: string, count: number): Promise<Deno.TcpConn[]> {
  const { hostname, port } = new URL(httpUrl);
  const conns = [];
  for (let i = 0; i < count; i++) {
    conns.push(await Deno.connect({ hostname, port: Number(port) }));
  }
  return conns;
}

/** How many of `conns` the server closes within `ms`. */
async function closedBy(conns: Deno.TcpConn[], ms: number): Promise<number> {
  const closed = await Promise.allSettled(
    conns.map((conn) => closedWithin(conn, ms)),
  );
  return closed.filter((result) => result.status === "fulfilled").length;
}

/** `GET /healthz` until it answers 200, for at most `ms`. */
async function healthyWithin(httpUrl: string, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const response = await fetch(`${httpUrl}/healthz`, {
        signal: AbortSignal.timeout(1000),
      });
      await response.body?.cancel();
      if (response.status === 200 || Date.now() > deadline) {
        return response.status;
      }
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Asserts that a new request is refused: the server holds `cap` connections. */
async function assertFull(httpUrl: string, cap: number): Promise<void> {
  const refused = await readReply(await fetch(`${httpUrl}/rooms`));
  assertEquals([refused.status, refused.body], [503, {
    error: `server is full: ${cap} connections are open, try again later`,
  }]);
}

/** The per-address limits are lifted: only the open-file limit is tested. */
const NO_ADDRESS_LIMITS = [
  "--max-connections-per-ip=0",
  "--ip-connect-rate=0",
];

/** `main.ts` on Deno with every permission: it can read its limit then. */
const DENO_ALLOW_ALL: ServerCommand = {
  name: "Deno, main.ts --allow-all",
  runtime: "deno",
  command: () =>
    Promise.resolve([
      Deno.execPath(),
      "run",
      "--allow-all",
      new URL("../main.ts", import.meta.url).pathname,
    ]),
};

/** How each way of starting the server learns its cap under `ulimit -n 256`. */
const CASES: { server: ServerCommand; args: string[]; logged: string }[] = [
  {
    server: DENO_ALLOW_ALL,
    args: [],
    logged: "max_open_connections=192 open_file_limit=256",
  },
  {
    // `deno task start`'s permissions hide the limit: it is given.
    server: DENO_SOURCE,
    args: ["--max-open-connections=192"],
    logged: "max_open_connections=192 open_file_limit=unknown",
  },
  ...[BUN_BUNDLE, BUN_EXECUTABLE_COMMAND].map((server) => ({
    server,
    args: [],
    logged: "max_open_connections=192 open_file_limit=256",
  })),
];

for (const { server, args, logged } of CASES) {
  Deno.test(`a flood of idle connections cannot run the server out of file descriptors (${[server.name, ...args].join(" ")})`, async () => {
    await using child = await startChildServer(
      underOpenFileLimit(server, 256),
      // info: the cap is in the start line; the refusals are logged as
      // warnings, on stderr.
      ["--log-level=info", ...NO_ADDRESS_LIMITS, ...args],
    );
    const loggedBy = Date.now() + 2000;
    while (!child.output().includes(logged) && Date.now() < loggedBy) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert(
      child.output().includes(logged),
      `the log says what the cap is:\n${child.output()}`,
    );
    const conns = await flood(child.httpUrl, 400);
    try {
      if (server.runtime === "deno") {
        // Those past the cap are closed at once; the others are kept.
        const closed = await closedBy(conns, 3000);
        assert(closed >= 400 - 192 && closed < 400, `${closed} closed`);
        await assertFull(child.httpUrl, 192);
      }
      // (Bun stops accepting at its limit until connections close.)
    } finally {
      for (const conn of conns) conn.close();
    }
    assertEquals(await healthyWithin(child.httpUrl, 5000), 200);
    assertEquals((await child.stop("SIGTERM")).code, 0, "it ran to the end");
  });
}

Deno.test("a connection past the cap is refused with 503, in process", async () => {
  await using chat = await startServer({
    maxOpenConnections: 20,
    maxConnectionsPerIp: 0,
    ipConnectRate: 0,
  });
  const conns = await flood(chat.httpUrl, 40);
  try {
    assertEquals(await closedBy(conns, 2500), 20);
    await assertFull(chat.httpUrl, 20);
  } finally {
    for (const conn of conns) conn.close();
  }
  assertEquals(await healthyWithin(chat.httpUrl, 3000), 200);
});
