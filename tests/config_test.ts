import {
  deepStrictEqual as assertEquals,
  throws as assertThrows,
} from "node:assert/strict";
import { ConfigError, helpText, parseConfig } from "../lib/config.ts";

const noEnv = () => undefined;

Deno.test("parseConfig() uses defaults without flags or variables", () => {
  assertEquals(parseConfig([], noEnv), {
    help: false,
    config: {
      port: 3000,
      host: "0.0.0.0",
      "join-history": 50,
      "max-frame-bytes": 65536,
      "max-body-bytes": 65536,
      "max-rooms-per-connection": 100,
      "max-connections": 10000,
      "max-connections-per-ip": 0,
      "rate-limit": 20,
      "max-buffered-bytes": 1048576,
      "idle-timeout": 30,
      "allowed-origins": [],
      "log-level": "info",
      "log-format": "text",
    },
  });
});

Deno.test("parseConfig() takes a flag over a variable over a default", async (t) => {
  const env = (name: string) => ({ PORT: "4000", HOST: "127.0.0.1" })[name];

  await t.step("variables replace defaults", () => {
    const request = parseConfig([], env);
    assertEquals(
      request.help ? null : [request.config.port, request.config.host],
      [4000, "127.0.0.1"],
    );
  });

  await t.step("flags replace variables, in both spellings", () => {
    const request = parseConfig(["--port", "5000", "--host=::1"], env);
    assertEquals(
      request.help ? null : [request.config.port, request.config.host],
      [5000, "::1"],
    );
  });

  await t.step("an empty variable counts as unset", () => {
    const request = parseConfig([], (name) => name === "PORT" ? "" : undefined);
    assertEquals(request.help ? null : request.config.port, 3000);
  });
});

Deno.test("parseConfig() refuses what it cannot use", async (t) => {
  const cases: [string[], string][] = [
    [
      ["--port", "http"],
      '--port must be a whole number from 0 to 65535, not "http"',
    ],
    [
      ["--port", "70000"],
      '--port must be a whole number from 0 to 65535, not "70000"',
    ],
    [
      ["--port=-1"],
      '--port must be a whole number from 0 to 65535, not "-1"',
    ],
    [
      ["--join-history", "1.5"],
      '--join-history must be a whole number from 0 to 1000, not "1.5"',
    ],
    [["--host", " "], "--host must not be empty"],
    [["--colour"], "Unknown option '--colour'"],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), () => {
      assertThrows(
        () => parseConfig(args, noEnv),
        (error: Error) =>
          error instanceof ConfigError && error.message.startsWith(message),
      );
    });
  }

  await t.step("a bad variable is named", () => {
    assertThrows(
      () => parseConfig([], (name) => name === "PORT" ? "eighty" : undefined),
      new ConfigError(
        'PORT must be a whole number from 0 to 65535, not "eighty"',
      ),
    );
  });
});

Deno.test("parseConfig() answers --help, and helpText() lists every option", () => {
  assertEquals(parseConfig(["--help"], noEnv), { help: true });
  assertEquals(parseConfig(["-h"], noEnv), { help: true });
  const help = helpText();
  const request = parseConfig([], noEnv);
  for (const name of Object.keys(request.help ? {} : request.config)) {
    assertEquals(help.includes(`--${name} `), true, `--${name} is listed`);
  }
  for (const variable of ["PORT", "HOST", "CHAT_JOIN_HISTORY"]) {
    assertEquals(help.includes(variable), true, `${variable} is listed`);
  }
});
