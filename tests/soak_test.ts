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
