import { CONTROL_CHARACTERS } from "./escape_controls.ts";

/** How much the server logs, from most to least. */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
/** A log level name. */
export type LogLevel = typeof LOG_LEVELS[number];
/** Human-readable lines, or one JSON object per line. */
export const LOG_FORMATS = ["text", "json"] as const;
/** A log format name. */
export type LogFormat = typeof LOG_FORMATS[number];

/** Options of {@linkcode Logger}. */
export interface LoggerOptions {
  /**
   * The least severe level that is written.
   * @default {"info"}
   */
  level?: LogLevel | undefined;
  /**
   * `text` for people, `json` for log collectors.
   * @default {"text"}
   */
  format?: LogFormat | undefined;
  /**
   * Where lines go.
   * @default {console.log, or console.error for warn and error}
   */
  write?: ((line: string, level: LogLevel) => void) | undefined;
}

/** Extra facts of a log event, such as `{ ip: "127.0.0.1" }`. */
export type LogFields = Record<string, unknown>;

function writeToConsole(line: string, level: LogLevel): void {
  if (level === "warn" || level === "error") console.error(line);
  else console.log(line);
}

/**
 * `JSON.stringify`, escaping also what it leaves raw but a terminal may act
 * on (`CONTROL_CHARACTERS`): clients choose close reasons and room ids, so
 * none of these may reach the operator's terminal or log viewer raw.
 */
function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    CONTROL_CHARACTERS,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** What makes a value of a text line need quotes: spaces, `"`, `=`, `\\`, controls. */
const NEEDS_QUOTES = new RegExp(
  `[\\s"=\\\\]|${CONTROL_CHARACTERS.source}`,
);

function textValue(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  // A lone surrogate, which JSON.stringify escapes, needs quotes too.
  return NEEDS_QUOTES.test(text) || !text.isWellFormed()
    ? safeJson(text)
    : text;
}

/** Writes one line per notable event, at or above a level. */
export class Logger {
  readonly #threshold: number;
  readonly #format: LogFormat;
  readonly #write: (line: string, level: LogLevel) => void;

  /** Creates a logger. */
  constructor(options: LoggerOptions = {}) {
    this.#threshold = LOG_LEVELS.indexOf(options.level ?? "info");
    this.#format = options.format ?? "text";
    this.#write = options.write ?? writeToConsole;
  }

  /** Whether events of `level` are written; check it before costly fields. */
  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) >= this.#threshold;
  }

  /** Logs a detail that helps debugging. */
  debug(event: string, fields?: LogFields): void {
    this.#log("debug", event, fields);
  }

  /** Logs a normal but notable event. */
  info(event: string, fields?: LogFields): void {
    this.#log("info", event, fields);
  }

  /** Logs something unusual that the server handled. */
  warn(event: string, fields?: LogFields): void {
    this.#log("warn", event, fields);
  }

  /** Logs a failure. */
  error(event: string, fields?: LogFields): void {
    this.#log("error", event, fields);
  }

  #log(level: LogLevel, event: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const time = new Date().toISOString();
    if (this.#format === "json") {
      const entries = Object.entries(fields).map((
        [key, value],
      ) => [key, value instanceof Error ? value.message : value]);
      this.#write(
        safeJson({ time, level, event, ...Object.fromEntries(entries) }),
        level,
      );
      return;
    }
    const details = Object.entries(fields)
      .map(([key, value]) => ` ${key}=${textValue(value)}`).join("");
    this.#write(`${time} ${level.toUpperCase()} ${event}${details}`, level);
  }
}
