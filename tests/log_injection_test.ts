/**
 * A client chooses its close reason, so a reason holding terminal escapes
 * (clear the screen, set the window title, reorder the line) must reach the
 * operator's log escaped, in the server as users start it.
 *
 * @module
 */
import { ok as assert } from "node:assert/strict";
import { SERVER_COMMANDS, startChildServer } from "./_child_server.ts";
import { openClient, WAIT_MS } from "./_helpers.ts";

/** Clears the screen, sets the title, rings the bell, a C1 CSI, an RTL override. */
const HOSTILE_REASON = "\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202eexe.txt";

/** What no log line may hold raw. */
const RAW_CONTROL =
  /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

for (const command of SERVER_COMMANDS) {
  Deno.test(`a client's close reason is logged escaped (${command.name})`, async () => {
    for (const format of ["text", "json"]) {
      await using server = await startChildServer(command, [
        "--log-level=info",
        `--log-format=${format}`,
      ]);
      const client = await openClient(server.wsUrl);
      client.socket.close(4000, HOSTILE_REASON);
      await client.closed;
      const deadline = Date.now() + WAIT_MS;
      while (!server.output().includes("4000")) {
        assert(Date.now() < deadline, `no close logged:\n${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const line = server.output().split("\n").find((line) =>
        line.includes("connection.close")
      )!;
      assert(!RAW_CONTROL.test(line), `raw control in ${JSON.stringify(line)}`);
      assert(line.includes("\\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m"), line);
    }
  });
}
