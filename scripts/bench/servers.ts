/**
 * How the bench starts each server, on each runtime. Every flag it passes
 * lives here, so a new server option (a store to choose, a limit to lift)
 * is added in one place.
 *
 * @module
 */
import { BUNDLE, bundleServer, findBun } from "../bun_build.ts";

/** The runtimes the bench can run the servers on. */
export const RUNTIMES = ["deno", "bun"] as const;

/** A runtime the bench can run the servers on. */
export type Runtime = typeof RUNTIMES[number];

/** A server the bench can start as a child process: `<executable> <args>`. */
export interface ServerCommand {
  /** Shown in the report: `ours`, `baseline`, `sink`. */
  name: string;
  /** What it runs on. */
  runtime: Runtime;
  /**
   * The runtime's own executable, never a wrapper such as `npx`: the bench
   * reads the server's memory and CPU time through its process id.
   */
  executable: string;
  /** Arguments after the executable; the server must print `listening on host:port`. */
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
  ...["--rate-limit", "--ip-rate-limit", "--ip-message-rate", "--ip-room-rate"]
    .map((flag) => ({
      flag,
      value: "0",
      why: "the load generator sends far faster than any person may",
    })),
  ...["--max-connections-per-ip", "--ip-connect-rate"].map((flag) => ({
    flag,
    value: "0",
    why: "the load generator opens every client from one address",
  })),
  {
    flag: "--max-open-connections",
    value: "100000",
    why: "Deno, which cannot read the open-file limit without --allow-all, " +
      "would assume 1024 and hold fewer connections than some scenarios open",
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
  "--allow-sys=statfs",
];
const OUR_SCRIPT = new URL("../../main.ts", import.meta.url).href;

function script(path: string): string {
  return new URL(path, import.meta.url).href;
}

/** Deno profiles when given a directory; Bun also wants `--cpu-prof`. */
function profileFlags(dir: string | undefined, runtime: Runtime): string[] {
  if (dir === undefined) return [];
  const flags = [`--cpu-prof-dir=${dir}`, "--cpu-prof-md"];
  return runtime === "bun" ? ["--cpu-prof", ...flags] : flags;
}

function ourFlags(options: ServerOptions): string[] {
  return [
    ...LISTEN,
    ...BENCH_SETTINGS.flatMap(({ flag, value }) => [flag, value]),
    ...options.serverArgs ?? [],
  ];
}

/** Our chat server, `main.ts`, with the bench's settings. */
export function ourServer(options: ServerOptions = {}): ServerCommand {
  const serverFlags = ourFlags(options);
  return {
    name: "ours",
    runtime: "deno",
    executable: Deno.execPath(),
    args: [
      "run",
      ...OUR_PERMISSIONS,
      ...profileFlags(options.profileDir, "deno"),
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
    runtime: "deno",
    executable: Deno.execPath(),
    args: [
      "run",
      "--allow-net",
      ...profileFlags(options.profileDir, "deno"),
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
    runtime: "deno",
    executable: Deno.execPath(),
    args: ["run", "--allow-net", script("./sink_server.ts"), ...LISTEN],
    serverFlags: LISTEN,
  };
}

/**
 * Our chat server on Bun: `main.ts` bundled by `deno bundle` (built anew
 * here), run by the Bun executable itself, with the bench's settings.
 */
export async function ourServerOnBun(
  options: ServerOptions = {},
): Promise<ServerCommand> {
  await bundleServer();
  const serverFlags = ourFlags(options);
  return {
    name: "ours",
    runtime: "bun",
    executable: await findBun(),
    args: [...profileFlags(options.profileDir, "bun"), BUNDLE, ...serverFlags],
    serverFlags,
  };
}

/** The smallest Bun server speaking the protocol: Bun's ceiling. */
export async function baselineServerOnBun(
  options: ServerOptions = {},
): Promise<ServerCommand> {
  return {
    name: "baseline",
    runtime: "bun",
    executable: await findBun(),
    args: [
      ...profileFlags(options.profileDir, "bun"),
      new URL("./baseline_server_bun.ts", import.meta.url).pathname,
      ...LISTEN,
    ],
    serverFlags: LISTEN,
  };
}

/**
 * Our server and the baseline on one runtime, in that order; a CPU profile
 * of each goes into `<profileDir>/<runtime>-<server>/`.
 */
export async function serverPair(
  runtime: Runtime,
  options: ServerOptions = {},
): Promise<ServerCommand[]> {
  const { serverArgs, profileDir } = options;
  const dir = (name: string) =>
    profileDir && `${profileDir}/${runtime}-${name}`;
  if (runtime === "bun") {
    return [
      await ourServerOnBun({ serverArgs, profileDir: dir("ours") }),
      await baselineServerOnBun({ profileDir: dir("baseline") }),
    ];
  }
  return [
    ourServer({ serverArgs, profileDir: dir("ours") }),
    baselineServer({ profileDir: dir("baseline") }),
  ];
}
