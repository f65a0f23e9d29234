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

const noEnv = () => undefined;

Deno.test("parseConfig() uses defaults without flags or variables", () => {
  assertEquals(parseConfig([], noEnv), {
    help: false,
    config: {
      port: 3000,
      host: "0.0.0.0",
      "join-history": 50,
      "page-max": 1000,
      "page-max-bytes": 1048576,
      "history-rate-limit": 30,
      db: "./data/chat.db",
      "db-busy-timeout": 5,
      redis: null,
      "history-max": 10000,
      "history-ttl": 30 * 24 * 60 * 60,
      "max-frame-bytes": 65536,
      "max-body-bytes": 65536,
      "body-timeout": 10,
      "write-timeout": 30,
      "max-rooms-per-connection": 100,
      "max-connections": 10000,
      "max-connections-per-ip": 256,
      "ip-connect-rate": 50,
      "max-open-connections": "auto",
      "header-timeout": 10,
      "rate-limit": 20,
      "ip-rate-limit": 200,
      "ip-message-rate": 20,
      "ip-room-rate": 30,
      "max-rooms": 100_000,
      "min-free-disk": 100 * 1024 * 1024,
      "flood-timeout": 10,
      "max-buffered-bytes": 1048576,
      "idle-timeout": 30,
      "allowed-origins": [],
      "trust-proxy": [],
      "metrics-token": null,
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
    [
      ["--port", "-1"],
      '--port must be a whole number from 0 to 65535, not "-1"',
    ],
    [["--port"], "--port needs a value: --port VALUE (see --help)"],
    [
      ["--port", "--host", "127.0.0.1"],
      "--port needs a value: --port VALUE (see --help)",
    ],
    [["--help=yes"], "--help takes no value (see --help)"],
    [["--host", " "], "--host must not be empty"],
    [
      ["--max-open-connections", "many"],
      '--max-open-connections must be "auto" or a whole number from 1 to 100000000, not "many"',
    ],
    [["--colour"], "Unknown option '--colour' (see --help)"],
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
  assertEquals(config["history-ttl"], 30 * 24 * 60 * 60);
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
    [
      ["--redis", "http://localhost:6379"],
      '--redis must start with redis:// or rediss:// (TLS), not "http://localhost:6379"',
    ],
    [
      ["--redis", "redis://:s3cret@localhost:6379/x"],
      '--redis may end with a database number such as /0, not "/x" ("redis://:***@localhost:6379/x")',
    ],
    [
      ["--redis", "redis://u:s3cret@local host"],
      '--redis must be a URL such as redis://localhost:6379/0, not "redis://u:***@local host"',
    ],
    [
      ["--redis", "redis://localhost:6379/0?tls=1"],
      "--redis must not have a query or fragment",
    ],
    [["--redis", "redis://"], "--redis must name a host"],
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
  assert(help.includes("env CHAT_HISTORY_TTL, default 30d"));
});

Deno.test("parseConfig() reads --min-free-disk as a size", async (t) => {
  const cases: [string, number][] = [
    ["0", 0],
    ["1048576", 1048576],
    ["512M", 512 * 1024 ** 2],
    ["2G", 2 * 1024 ** 3],
    ["2GiB", 2 * 1024 ** 3],
    ["10k", 10 * 1024],
  ];
  for (const [text, bytes] of cases) {
    await t.step(text, () => {
      const request = parseConfig(["--min-free-disk", text], noEnv);
      assert(!request.help);
      assertEquals(request.config["min-free-disk"], bytes);
    });
  }
  await t.step("not a size", () => {
    assertThrows(
      () => parseConfig(["--min-free-disk", "lots"], noEnv),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message ===
          '--min-free-disk must be a size such as 100M, 2G or 1048576 (bytes), not "lots"',
    );
  });
});

Deno.test("parseConfig() reads --max-open-connections as a number or auto", () => {
  assertEquals(configOf([])["max-open-connections"], "auto");
  assertEquals(
    configOf(["--max-open-connections", "5000"])["max-open-connections"],
    5000,
  );
  assertEquals(
    configOf([], { CHAT_MAX_OPEN_CONNECTIONS: "auto" })["max-open-connections"],
    "auto",
  );
});

Deno.test("parseConfig() takes a Redis URL with user, password and database", async (t) => {
  const cases: [string, string][] = [
    ["redis://localhost", "redis://localhost"],
    ["redis://127.0.0.1:6380/2", "redis://127.0.0.1:6380/2"],
    [
      "rediss://ann:p%40ss@redis.example:6380/15",
      "rediss://ann:p%40ss@redis.example:6380/15",
    ],
    ["redis://:secret@[::1]:6379", "redis://:secret@[::1]:6379"],
  ];
  for (const [url, expected] of cases) {
    await t.step(url, () => {
      assertEquals(configOf(["--redis", url]).redis, expected);
      assertEquals(
        configOf([], { CHAT_REDIS: url }).redis,
        expected,
      );
    });
  }
  await t.step("off", () => {
    assertEquals(configOf(["--redis", "off"]).redis, null);
  });
});

Deno.test("parseConfig() refuses --db together with --redis, whichever way each is given", async (t) => {
  const cases: [string[], Record<string, string>, string][] = [
    [["--db", "x.db", "--redis", "redis://localhost"], {}, "--db and --redis"],
    [
      ["--redis", "redis://localhost"],
      { CHAT_DB: "x.db" },
      "CHAT_DB and --redis",
    ],
    [
      ["--db", "x.db"],
      { CHAT_REDIS: "redis://localhost" },
      "--db and CHAT_REDIS",
    ],
  ];
  for (const [args, env, names] of cases) {
    await t.step(names, () => {
      assertThrows(
        () => configOf(args, env),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.startsWith(`${names} cannot be used together`),
      );
    });
  }
});

Deno.test("helpText() and the README's configuration table agree", () => {
  const help = new Map(
    [...helpText().matchAll(/--([a-z-]+) <value>[^]*?env (\S+), default (.+)/g)]
      .map(([, name, env, value]) => [name!, { env: env!, value: value! }]),
  );
  const readme = Deno.readTextFileSync(
    new URL("../README.md", import.meta.url),
  );
  const rows = [
    ...readme.matchAll(/^\| `--([a-z-]+)` +\| `(\w+)` +\| ([^|]+)\|/gm),
  ];
  assertEquals(
    rows.map(([, name]) => name).sort(),
    [...help.keys()].sort(),
    "the table lists every option",
  );
  for (const [, name, env, cell] of rows) {
    const documented = cell!.replaceAll("`", "").trim();
    const { env: helpEnv, value } = help.get(name!)!;
    assertEquals(env, helpEnv, `--${name}`);
    assert(
      documented.startsWith(value),
      `--${name}: the README says "${documented}", --help "${value}"`,
    );
  }
});
