import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { formatReport, runSoak, soakPassed } from "../scripts/soak.ts";

const RUNS = [
  ["in memory, with pauses", { store: "memory", maxPauseMs: 20 }],
  ["on SQLite, frames back to back", { store: "sqlite", maxPauseMs: 0 }],
] as const;

for (const [what, options] of RUNS) {
  Deno.test(`runSoak() leaves no connection, room or member behind (${what})`, async () => {
    const report = await runSoak({ seconds: 2, clients: 6, ...options });
    const summary = formatReport(report);
    assertEquals(report.afterClients, {
      chat_connections_open: 0,
      chat_rooms: 0,
      chat_room_members: 0,
    }, summary);
    assert(report.counts.websocket > 0, summary);
    assert(report.counts.raw > 0, summary);
    assert(report.messagesStored > 0, summary);
    assert(report.healthy, summary);
    assertEquals(report.exitCode, 0, summary);
    assertEquals(report.serverLogs, [], summary);
    assert(soakPassed(report), summary);
  });
}

Deno.test("scripts/soak.ts answers --help and refuses bad flags in one line", async (t) => {
  const soak = new URL("../scripts/soak.ts", import.meta.url).pathname;
  async function run(...args: string[]) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-run",
        "--allow-read",
        "--allow-write",
        soak,
        ...args,
      ],
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    return { code, out: decoder.decode(stdout), err: decoder.decode(stderr) };
  }
  await t.step("--help", async () => {
    const { code, out } = await run("--help");
    assertEquals(code, 0);
    assert(out.startsWith("Usage: deno task soak [--seconds N]"), out);
  });
  const cases: [string[], string][] = [
    [
      ["--seconds", "abc"],
      'error: --seconds must be a whole number from 1 to 3600, not "abc"',
    ],
    [
      ["--clients", "0"],
      'error: --clients must be a whole number from 1 to 1000, not "0"',
    ],
    [["--minutes", "3"], "error: Unknown option '--minutes'"],
  ];
  for (const [args, error] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, out, err } = await run(...args);
      assertEquals([code, out, err.split("\n")[0]], [2, "", error]);
      assert(err.includes("Usage: deno task soak"), err);
      assert(!/^\s+at /m.test(err), `no stack trace:\n${err}`);
    });
  }
});
