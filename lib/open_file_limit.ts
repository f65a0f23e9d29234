/**
 * The process's open-file limit, and how many connections fit under it.
 *
 * Every connection holds a file descriptor. A server that accepts one more
 * than its limit allows fails to accept (Deno's own server then stops) or,
 * worse, fails wherever else it needs a descriptor next: its database, its
 * log, the runtime itself. So the server keeps its connections below the
 * limit, with room to spare for the rest of the process.
 *
 * Deno and Bun both raise the soft limit to the hard limit as they start,
 * so the limit read here is already as high as the system allows this
 * process (`ulimit -n`, or `LimitNOFILE=` of a systemd unit, raise it).
 *
 * @module
 */
import { readFileSync } from "node:fs";

/** Descriptors kept for the process itself at least: files, pipes, the runtime. */
const RESERVED_AT_LEAST = 64;

/**
 * The soft "Max open files" limit in the text of `/proc/self/limits`, or
 * `undefined` if the text has none (or it is "unlimited").
 */
export function parseOpenFileLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\d+)\s/m.exec(limits);
  return match ? Number(match[1]) : undefined;
}

/**
 * This process's open-file limit, read from `/proc/self/limits`; `undefined`
 * where there is no such file (not Linux) or it cannot be read (Deno lets
 * only `--allow-all` read `/proc/self`).
 */
export function readOpenFileLimit(): number | undefined {
  try {
    return parseOpenFileLimit(readFileSync("/proc/self/limits", "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The limit assumed where it cannot be read: the usual soft limit on Linux,
 * and what Deno's permissions hide unless it runs with `--allow-all`.
 */
const ASSUMED_OPEN_FILE_LIMIT = 1024;

/**
 * How many connections may be open at once under an open-file limit: all
 * but a sixteenth of it, and at least 64 descriptors, which the process
 * keeps for itself (about 30 are open before the first connection).
 *
 * @param openFileLimit the limit; {@linkcode ASSUMED_OPEN_FILE_LIMIT} if
 *   it is not known
 *
 * @example
 * ```ts
 * connectionCap(1024); // 960
 * connectionCap(65536); // 61440
 * ```
 */
export function connectionCap(openFileLimit: number | undefined): number {
  const limit = openFileLimit ?? ASSUMED_OPEN_FILE_LIMIT;
  const reserved = Math.max(RESERVED_AT_LEAST, Math.ceil(limit / 16));
  return Math.max(1, limit - reserved);
}
