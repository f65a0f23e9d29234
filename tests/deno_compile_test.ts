import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { compileProblem } from "../scripts/deno_compile.ts";

/** What deno compile 2.9.6 prints without the network (colours left out). */
const OFFLINE = `Check main.ts
Compile main.ts to dist/chat-server
Download https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
error: Writing deno compile executable to temporary file 'dist/chat-server.tmp-533f14ab371d3683'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)

Stack backtrace:
   0: <unknown>
`;

Deno.test("compileProblem() says in one line why deno compile failed", async (t) => {
  await t.step("offline: it points to compile:bun", () => {
    assertEquals(
      compileProblem(OFFLINE),
      "deno compile could not download Deno's runtime for executables " +
        "(https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip); " +
        "it needs the network once. Without it, build with Bun: " +
        "deno task compile:bun",
    );
  });
  await t.step("a DENORT_BIN that does not exist", () => {
    assertEquals(
      compileProblem(
        "error: Writing deno compile executable\n\nCaused by:\n" +
          "    0: Could not find denort at '/opt/denort'\n",
      ),
      'DENORT_BIN names "/opt/denort", which does not exist: point it at ' +
        "Deno's runtime for executables (denort), or unset it",
    );
  });
  await t.step("anything else is left in Deno's words", () => {
    assertEquals(
      compileProblem("error: Type checking failed.\n"),
      undefined,
    );
  });
});
