import { ok as assert } from "node:assert/strict";
import {
  formatAbuseReport,
  MEMORY_BOUND_MIB,
  runAbuse,
} from "../scripts/abuse.ts";

// How fast the victim's round trips are under attack depends on the machine
// and whatever else runs on it, so this test checks what does not: the
// server stays up and within its memory, and no round trip is lost.
// `deno task soak --abuse` also holds the round trips to their limit.
Deno.test("runAbuse() plays every attack; the server stays up and bounded", async () => {
  const report = await runAbuse({ secondsPerAttack: 1 });
  const summary = formatAbuseReport(report);
  assert(report.attacks.length >= 9, summary);
  for (const attack of report.attacks) {
    assert(attack.healthy, `${attack.name}\n${summary}`);
    assert(attack.victim.count > 0, `${attack.name}\n${summary}`);
    assert(attack.victim.lost === 0, `${attack.name}\n${summary}`);
    assert(
      attack.peakMiB - report.startMiB < MEMORY_BOUND_MIB,
      `${attack.name}\n${summary}`,
    );
  }
  assert(report.exitCode === 0, summary);
  assert(report.afterAttacks.chat_connections_open === 1, summary);
});
