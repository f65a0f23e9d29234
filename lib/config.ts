/**
 * The server's settings: each has a command-line flag, an environment
 * variable and a default, in that order of precedence. The `--help` text is
 * made from the same table, so it always lists every option.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { TrustedProxies } from "./client_ip.ts";
import { parseRedisUrl } from "./redis/redis_url.ts";
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from "./logger.ts";

/** One setting: where it comes from and how its text becomes a value. */
interface OptionSpec<T> {
  env: string;
  default: T;
  /** The default as `--help` shows it, when not just `String(default)`. */
  shownDefault?: string;
  help: string;
  parse(text: string, flag: string): T;
}

function integer(min: number, max: number) {
  return (text: string, flag: string): number => {
    const value = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || value < min || value > max) {
      throw new ConfigError(
        `${flag} must be a whole number from ${min} to ${max}, not "${text}"`,
      );
    }
    return value;
  };
}

function integerOrAuto(min: number, max: number) {
  const parse = integer(min, max);
  return (text: string, flag: string): number | "auto" => {
    if (text.trim() === "auto") return "auto";
    try {
      return parse(text, flag);
    } catch {
      throw new ConfigError(
        `${flag} must be "auto" or a whole number from ${min} to ${max}, not "${text}"`,
      );
    }
  };
}

function text(value: string, flag: string): string {
  if (value.trim() === "") throw new ConfigError(`${flag} must not be empty`);
  return value;
}

function choice<const T extends readonly string[]>(values: T) {
  return (text: string, flag: string): T[number] => {
    if (!values.includes(text)) {
      throw new ConfigError(
        `${flag} must be one of ${values.join(", ")}, not "${text}"`,
      );
    }
    return text;
  };
}

function list(text: string): string[] {
  return text.split(",").map((item) => item.trim()).filter((item) => item);
}

/** A list of proxy addresses and CIDR ranges, each checked. */
function proxyList(text: string, flag: string): string[] {
  const entries = list(text);
  try {
    new TrustedProxies(entries);
  } catch (error) {
    throw new ConfigError(`${flag}: ${(error as Error).message}`);
  }
  return entries;
}

/** A Redis URL, checked; `off` for none. Messages never show a password. */
function redisUrl(text: string, flag: string): string | null {
  if (text.trim() === "off") return null;
  try {
    return parseRedisUrl(text).href;
  } catch (error) {
    throw new ConfigError(`${flag} ${(error as Error).message}`);
  }
}

const BYTES_PER_UNIT: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/** A size in bytes such as `512M` or `2G` (powers of 1024). */
function byteSize(text: string, flag: string): number {
  const match = /^\s*(\d+)([kmgt]?)i?b?\s*$/i.exec(text);
  const bytes = match
    ? Number(match[1]) * BYTES_PER_UNIT[match[2]!.toLowerCase()]!
    : NaN;
  if (!(bytes <= Number.MAX_SAFE_INTEGER)) {
    throw new ConfigError(
      `${flag} must be a size such as 100M, 2G or 1048576 (bytes), not "${text}"`,
    );
  }
  return bytes;
}

const SECONDS_PER_UNIT: Record<string, number> = {
  s: 1,
  m: 60,
  h: 60 * 60,
  d: 24 * 60 * 60,
  w: 7 * 24 * 60 * 60,
};

/** A duration such as `30d` in seconds, or `null` for `off`. */
function duration(text: string, flag: string): number | null {
  if (text.trim() === "off") return null;
  const match = /^\s*(\d+)([smhdw])\s*$/.exec(text);
  const seconds = match ? Number(match[1]) * SECONDS_PER_UNIT[match[2]!]! : 0;
  if (!(seconds > 0 && seconds <= Number.MAX_SAFE_INTEGER)) {
    throw new ConfigError(
      `${flag} must be a duration such as 90s, 15m, 12h, 30d or 4w, or "off", not "${text}"`,
    );
  }
  return seconds;
}

const OPTIONS = {
  port: {
    env: "PORT",
    default: 3000,
    help: "TCP port to listen on (0 picks a free one)",
    parse: integer(0, 65535),
  },
  host: {
    env: "HOST",
    default: "0.0.0.0",
    help: "address to listen on (127.0.0.1 keeps it to this machine)",
    parse: text,
  },
  "join-history": {
    env: "CHAT_JOIN_HISTORY",
    default: 50,
    help: "recent messages a client receives when it joins a room",
    parse: integer(0, 1000),
  },
  "page-max": {
    env: "CHAT_PAGE_MAX",
    default: 1000,
    help: "most messages one history page holds (POST /receive, since)",
    parse: integer(1, 1000),
  },
  "page-max-bytes": {
    env: "CHAT_PAGE_MAX_BYTES",
    default: 1024 * 1024,
    help: "most bytes of JSON one POST /receive page holds",
    parse: integer(64 * 1024, 64 * 1024 * 1024),
  },
  "history-rate-limit": {
    env: "CHAT_HISTORY_RATE_LIMIT",
    default: 30,
    help: "POST /receive requests per second per IP, bursts of twice\n" +
      "that (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  db: {
    env: "CHAT_DB",
    default: "./data/chat.db",
    help: "SQLite file for the history (:memory: keeps it in memory only)",
    parse: text,
  },
  "db-busy-timeout": {
    env: "CHAT_DB_BUSY_TIMEOUT",
    default: 5,
    help: "seconds a message waits while another program holds the\n" +
      "database's write lock (then HTTP 503 or an error frame)",
    parse: integer(1, 60),
  },
  redis: {
    env: "CHAT_REDIS",
    default: null,
    help: "keep the history in Redis instead of SQLite, for several\n" +
      "instances: redis://[user:password@]host[:port][/db], or rediss://\n" +
      "for TLS (not together with --db)",
    parse: redisUrl,
  },
  "history-max": {
    env: "CHAT_HISTORY_MAX",
    default: 10000,
    help: "messages kept per room, oldest pruned first (0 keeps all)",
    parse: integer(0, 1_000_000_000),
  },
  "history-ttl": {
    env: "CHAT_HISTORY_TTL",
    default: 30 * 24 * 60 * 60 as number | null,
    shownDefault: "30d",
    help: "longest a message is kept, such as 30d, 12h or off",
    parse: duration,
  },
  "max-frame-bytes": {
    env: "CHAT_MAX_FRAME_BYTES",
    default: 65536,
    help: "largest accepted WebSocket frame, in bytes",
    parse: integer(256, 16 * 1024 * 1024),
  },
  "max-body-bytes": {
    env: "CHAT_MAX_BODY_BYTES",
    default: 65536,
    help: "largest accepted REST request body, in bytes",
    parse: integer(256, 16 * 1024 * 1024),
  },
  "body-timeout": {
    env: "CHAT_BODY_TIMEOUT",
    default: 10,
    help: "seconds a REST request body may take to arrive (then HTTP 408)",
    parse: integer(1, 3600),
  },
  "write-timeout": {
    env: "CHAT_WRITE_TIMEOUT",
    default: 30,
    help: "seconds a client may take to read a page of history before its\n" +
      "connection is closed",
    parse: integer(1, 3600),
  },
  "max-rooms-per-connection": {
    env: "CHAT_MAX_ROOMS_PER_CONNECTION",
    default: 100,
    help: "rooms one WebSocket connection may be in at once",
    parse: integer(1, 100_000),
  },
  "max-connections": {
    env: "CHAT_MAX_CONNECTIONS",
    default: 10_000,
    help: "open WebSocket connections in total (more get HTTP 503)",
    parse: integer(1, 1_000_000),
  },
  "max-connections-per-ip": {
    env: "CHAT_MAX_CONNECTIONS_PER_IP",
    default: 256,
    help: "open connections per client IP address: its WebSockets, and on\n" +
      "Deno its HTTP connections too (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  "ip-connect-rate": {
    env: "CHAT_IP_CONNECT_RATE",
    default: 50,
    help: "new connections per second per client IP address, bursts of\n" +
      "twice that (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  "max-open-connections": {
    env: "CHAT_MAX_OPEN_CONNECTIONS",
    default: "auto" as number | "auto",
    help: "open connections in total, WebSocket or not (auto: all but a\n" +
      "sixteenth of the open-file limit; where it cannot be read, as if\n" +
      "it were 1024)",
    parse: integerOrAuto(1, 100_000_000),
  },
  "header-timeout": {
    env: "CHAT_HEADER_TIMEOUT",
    default: 10,
    help: "seconds a connection may take to send a complete request head,\n" +
      "from its opening or the end of its last answer, before it is closed",
    parse: integer(1, 3600),
  },
  "rate-limit": {
    env: "CHAT_RATE_LIMIT",
    default: 20,
    help: "frames per second per WebSocket connection, bursts of twice\n" +
      "that (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  "ip-rate-limit": {
    env: "CHAT_IP_RATE_LIMIT",
    default: 200,
    help: "frames per second per client IP address, over all its WebSocket\n" +
      "connections, bursts of twice that (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  "ip-message-rate": {
    env: "CHAT_IP_MESSAGE_RATE",
    default: 20,
    help: "messages stored per second per client IP address, over WebSocket\n" +
      "and POST /send together, bursts of twice that (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  "ip-room-rate": {
    env: "CHAT_IP_ROOM_RATE",
    default: 30,
    help: "new rooms per minute per client IP address (the first message\n" +
      "of a room creates it), bursts of twice that (0: no limit)",
    parse: integer(0, 1_000_000),
  },
  "max-rooms": {
    env: "CHAT_MAX_ROOMS",
    default: 100_000,
    help: "rooms with messages in total; a message that would create one\n" +
      "more is refused",
    parse: integer(1, 1_000_000_000),
  },
  "min-free-disk": {
    env: "CHAT_MIN_FREE_DISK",
    default: 100 * 1024 * 1024,
    shownDefault: "100M",
    help: "free space the database's disk must keep, such as 100M or 2G;\n" +
      "below it messages are refused and /readyz fails (0: no check)",
    parse: byteSize,
  },
  "flood-timeout": {
    env: "CHAT_FLOOD_TIMEOUT",
    default: 10,
    help: "seconds a client may keep sending over its budget before it is\n" +
      "disconnected (1008); 10 times its burst of refused frames is sooner",
    parse: integer(1, 3600),
  },
  "max-buffered-bytes": {
    env: "CHAT_MAX_BUFFERED_BYTES",
    default: 1024 * 1024,
    help: "unsent bytes a client may have waiting for 3 s (or 4 times that\n" +
      "at once) before it is closed as not reading (1013)",
    parse: integer(1024, 1024 * 1024 * 1024),
  },
  "idle-timeout": {
    env: "CHAT_IDLE_TIMEOUT",
    default: 30,
    help: "seconds a client may not answer pings before it is dropped (0: off)",
    parse: integer(0, 3600),
  },
  "allowed-origins": {
    env: "CHAT_ALLOWED_ORIGINS",
    default: [] as string[],
    shownDefault: "(any)",
    help: "comma-separated origins whose pages may open a WebSocket\n" +
      "and read REST answers (empty: any origin)",
    parse: list,
  },
  "trust-proxy": {
    env: "CHAT_TRUST_PROXY",
    default: [] as string[],
    help: "comma-separated addresses or CIDR ranges of reverse proxies\n" +
      "whose X-Forwarded-For names the client (empty: none)",
    parse: proxyList,
  },
  "metrics-token": {
    env: "CHAT_METRICS_TOKEN",
    default: null as string | null,
    shownDefault: "(none: public)",
    help: "token GET /metrics asks for (Authorization: Bearer <token>);\n" +
      "prefer the variable, which ps does not show (unset: public)",
    parse: text,
  },
  "log-level": {
    env: "CHAT_LOG_LEVEL",
    default: "info" as LogLevel,
    help: `least severe log events written: ${LOG_LEVELS.join(", ")}`,
    parse: choice(LOG_LEVELS),
  },
  "log-format": {
    env: "CHAT_LOG_FORMAT",
    default: "text" as LogFormat,
    help: `log line format: ${LOG_FORMATS.join(", ")}`,
    parse: choice(LOG_FORMATS),
  },
} satisfies Record<string, OptionSpec<unknown>>;

type Options = typeof OPTIONS;

/** The server's settings, keyed by flag name. */
export type Config = {
  [K in keyof Options]: ReturnType<Options[K]["parse"]>;
};

/** A flag or environment variable with a value the server cannot use. */
export class ConfigError extends Error {
  /** Creates the error with the message the user will read. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** What the command line asked for: to run with a config, or for help. */
export type ConfigRequest = { help: true } | { help: false; config: Config };

/**
 * Reads the settings from command-line arguments and environment variables.
 *
 * @throws {ConfigError} for an unknown flag or an invalid value
 */
export function parseConfig(
  args: string[],
  env: (name: string) => string | undefined,
): ConfigRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinDashedValues(args),
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(
          Object.keys(OPTIONS).map((name) => [name, { type: "string" }]),
        ) as Record<keyof Options, { type: "string" }>,
      },
    });
  } catch (error) {
    throw new ConfigError(`${usageProblem(error as Error)} (see --help)`);
  }
  if (parsed.values.help) return { help: true };

  const config: Record<string, unknown> = {};
  /** Where each setting that is not a default came from. */
  const given: Record<string, string> = {};
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const flag = parsed.values[name as keyof Options];
    const fromEnv = env(spec.env);
    if (flag !== undefined) {
      config[name] = spec.parse(flag, given[name] = `--${name}`);
    } else if (fromEnv !== undefined && fromEnv !== "") {
      config[name] = spec.parse(fromEnv, given[name] = spec.env);
    } else config[name] = spec.default;
  }
  if (config.redis !== null && given.db) {
    throw new ConfigError(
      `${given.db} and ${given.redis} cannot be used together: with Redis the history is kept there, not in an SQLite file; drop ${given.db}`,
    );
  }
  return { help: false, config: config as Config };
}

/**
 * `--port -1` as `--port=-1`, so that a negative number is read as the
 * value it is meant to be (and refused in words) rather than taken for a
 * flag, which `parseArgs()` reports as an "ambiguous" argument.
 */
function joinDashedValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (/^--[a-z-]+$/.test(arg) && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** A `parseArgs()` error in one line: which flag, and what is wrong. */
function usageProblem(error: Error): string {
  const flag = /'(?:-\w, )?(-[^' ]+)/.exec(error.message)?.[1];
  const code = (error as { code?: string }).code;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag) {
    return error.message.includes("does not take an argument")
      ? `${flag} takes no value`
      : `${flag} needs a value: ${flag} VALUE`;
  }
  return error.message;
}

/** The `--help` text: usage and every option with its variable and default. */
export function helpText(): string {
  const indent = "\n      ";
  const rows = Object.entries(OPTIONS).map(([name, spec]) =>
    `  --${name} <value>${indent}${spec.help.replaceAll("\n", indent)}` +
    `${indent}env ${spec.env}, default ${
      "shownDefault" in spec ? spec.shownDefault : formatDefault(spec.default)
    }`
  );
  return [
    "Real-time chat server: REST and WebSocket on one port.",
    "",
    "Usage: deno task start [options]",
    "   or: chat-server [options]   (a compiled executable, see the README)",
    "",
    "Options (a flag wins over its environment variable):",
    ...rows,
    "  -h, --help",
    "      show this help and exit",
  ].join("\n");
}

function formatDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.join(",") : "(none)";
  return value === null ? "off" : String(value);
}
