import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import { CHECKS, readmeCommands } from "../scripts/readme_check.ts";

const README = new URL("../README.md", import.meta.url);

Deno.test("readmeCommands() finds the commands of sh blocks and of the text", () => {
  const markdown = [
    "Start it:",
    "",
    "```sh",
    "npx -y deno@2.9.6 task start   # the server",
    "curl -X POST http://localhost:3000/send \\",
    '  -d \'{"room_id": "general"}\'',
    "```",
    "",
    "Then `deno task client --room general`, or `PORT=8080 deno task",
    "start`. The `deno` command and `deno bundle` are names, not commands.",
    "",
    "```json",
    '{ "not": "a command" }',
    "```",
  ].join("\n");
  assertEquals(readmeCommands(markdown), [
    "npx -y deno@2.9.6 task start",
    `curl -X POST http://localhost:3000/send -d '{"room_id": "general"}'`,
    "deno task client --room general",
    "PORT=8080 deno task start",
  ]);
});

Deno.test("scripts/readme_check.ts has a check for each README command", async () => {
  const documented = readmeCommands(await Deno.readTextFile(README));
  assertEquals(
    CHECKS.map((check) => check.readme).sort(),
    documented.sort(),
  );
});

Deno.test({
  name:
    "scripts/readme_check.ts: every README command works for a reader with only Node.js",
  // It runs each command in a session of its own (setsid) and reads /proc.
  ignore: Deno.build.os !== "linux",
  async fn() {
    const script = new URL("../scripts/readme_check.ts", import.meta.url);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", script.pathname],
      stdin: "null",
    }).output();
    const output = new TextDecoder().decode(stdout) +
      new TextDecoder().decode(stderr);
    assert(code === 0, output);
  },
});
