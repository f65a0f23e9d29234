/**
 * How the bench starts each server. Every flag it passes lives here, so a
 * new server option (a store to choose, a limit to lift) is added in one
 * place.
 *
 * @module
 */

/** A server the bench can start as a child process: `deno <args>`. */
export interface ServerCommand {
  /** Shown in the report: `ours`, `baseline`, `sink`. */
  name: string;
  /** Arguments after `deno`; the server must print `listening on host:port`. */
  args: string[];
  /** The flags after the script, for the report. */
  serverFlags: string[];
}

/** Options of {@linkcode ourServer} and {@linkcode baselineServer}. */
export interface ServerOptions {
  /**
   * Extra flags for our server, after the bench's own settings, which they
   * override (e.g. `--db bench.db` for the SQLite store).
   * @default {[]}
   */
  serverArgs?: string[] | undefined;
  /** Write a CPU profile, and a Markdown summary of it, into this directory. */
  profileDir?: string | undefined;
}

/**
 * Settings of our server that would distort a benchmark, and the values the
 * bench gives them; `--server-args` comes after them, so it can override.
 */
export const BENCH_SETTINGS: readonly {
  flag: string;
  value: string;
  why: string;
}[] = [
  {
    flag: "--db",
    value: ":memory:",
    why: "the in-memory store, unless --server-args names a database file",
  },
  {
    flag: "--rate-limit",
    value: "0",
    why: "the load generator sends far faster than any person may",
  },
  {
    flag: "--log-level",
    value: "warn",
    why: "a line per connection would measure the terminal",
  },
];

/** Where every server listens: loopback, on a port the kernel picks. */
const LISTEN = ["--host", "127.0.0.1", "--port", "0"];
/** The permissions of `deno task start` (read and write: a store on disk). */
const OUR_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
];
const OUR_SCRIPT = new URL("../../main.ts", import.meta.url).href;

function script(path: string): string {
  return new URL(path, import.meta.url).href;
}

function profileFlags(dir: string | undefined): string[] {
  return dir === undefined ? [] : [`--cpu-prof-dir=${dir}`, "--cpu-prof-md"];
}

/** Our chat server, `main.ts`, with the bench's settings. */
export function ourServer(options: ServerOptions = {}): ServerCommand {
  const serverFlags = [
    ...LISTEN,
    ...BENCH_SETTINGS.flatMap(({ flag, value }) => [flag, value]),
    ...options.serverArgs ?? [],
  ];
  return {
    name: "ours",
    args: [
      "run",
      ...OUR_PERMISSIONS,
      ...profileFlags(options.profileDir),
      OUR_SCRIPT,
      ...serverFlags,
    ],
    serverFlags,
  };
}

/** The smallest Deno server speaking the protocol: the runtime's ceiling. */
export function baselineServer(options: ServerOptions = {}): ServerCommand {
  return {
    name: "baseline",
    args: [
      "run",
      "--allow-net",
      ...profileFlags(options.profileDir),
      script("./baseline_server.ts"),
      ...LISTEN,
    ],
    serverFlags: LISTEN,
  };
}

/** A server that does nothing but feed the load generator: its ceiling. */
export function sinkServer(): ServerCommand {
  return {
    name: "sink",
    args: ["run", "--allow-net", script("./sink_server.ts"), ...LISTEN],
    serverFlags: LISTEN,
  };
}
