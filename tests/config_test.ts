import {
  deepStrictEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import {
  type Config,
  ConfigError,
  helpText,
  parseConfig,
} from "../lib/config.ts";

/** Parses arguments and an environment given as an object. */
function configOf(args: string[], env: Record<string, string> = {}): Config {
  const request = parseConfig(args, (name) => env[name]);
  if (request.help) throw new Error("unexpected --help");
  return request.config;
}

Deno.test("parseConfig() gives the history options their defaults", () => {
  const config = configOf([]);
  assertEquals(config.db, "./data/chat.db");
  assertEquals(config["history-max"], 10000);
  assertEquals(config["history-ttl"], null);
  assertEquals(config["page-max"], 1000);
});

Deno.test("parseConfig() reads the history options", async (t) => {
  await t.step("from flags, which win over the environment", () => {
    const config = configOf(
      ["--db", ":memory:", "--history-max", "0", "--page-max", "50"],
      { CHAT_DB: "other.db", CHAT_HISTORY_MAX: "5" },
    );
    assertEquals(config.db, ":memory:");
    assertEquals(config["history-max"], 0);
    assertEquals(config["page-max"], 50);
  });

  await t.step("from the environment", () => {
    const config = configOf([], {
      CHAT_DB: "/var/lib/chat.db",
      CHAT_HISTORY_MAX: "500",
      CHAT_HISTORY_TTL: "7d",
      CHAT_PAGE_MAX: "200",
    });
    assertEquals(config.db, "/var/lib/chat.db");
    assertEquals(config["history-max"], 500);
    assertEquals(config["history-ttl"], 7 * 24 * 60 * 60);
    assertEquals(config["page-max"], 200);
  });
});

Deno.test("parseConfig() reads --history-ttl as a duration", async (t) => {
  const cases: [string, number | null][] = [
    ["45s", 45],
    ["15m", 15 * 60],
    ["12h", 12 * 60 * 60],
    ["30d", 30 * 24 * 60 * 60],
    ["2w", 14 * 24 * 60 * 60],
    ["off", null],
  ];
  for (const [text, seconds] of cases) {
    await t.step(`"${text}"`, () => {
      assertEquals(configOf(["--history-ttl", text])["history-ttl"], seconds);
    });
  }
});

Deno.test("parseConfig() refuses a bad history option, saying why", async (t) => {
  const cases: [string[], string][] = [
    [
      ["--history-ttl", "30"],
      '--history-ttl must be a duration such as 90s, 15m, 12h, 30d or 4w, or "off", not "30"',
    ],
    [["--history-ttl", "0d"], "--history-ttl must be a duration"],
    [["--history-ttl", "1y"], "--history-ttl must be a duration"],
    [["--history-ttl=-5d"], "--history-ttl must be a duration"],
    [
      ["--history-max=-1"],
      '--history-max must be a whole number from 0 to 1000000000, not "-1"',
    ],
    [
      ["--page-max", "0"],
      '--page-max must be a whole number from 1 to 1000, not "0"',
    ],
    [
      ["--page-max", "1001"],
      "--page-max must be a whole number from 1 to 1000",
    ],
    [["--db", " "], "--db must not be empty"],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), () => {
      assertThrows(
        () => configOf(args),
        (error: unknown) =>
          error instanceof ConfigError && error.message.startsWith(message),
      );
    });
  }
});

Deno.test("helpText() lists the history options", () => {
  const help = helpText();
  for (const text of ["--db", "CHAT_DB", "--history-max", "--history-ttl"]) {
    assert(help.includes(text), text);
  }
  assert(help.includes("env CHAT_HISTORY_TTL, default off"));
});
