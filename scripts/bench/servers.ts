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

/**
 * Where our server keeps its messages and how many instances run, as
 * `--setups` names them: `memory` (the default), `sqlite` (a file in a
 * temporary folder), `redis` (a redis-server the bench starts), `redis-x2`
 * (two instances on one Redis, the clients split across them, so that
 * every message crosses instances).
 */
export const SETUPS = ["memory", "sqlite", "redis", "redis-x2"] as const;

/** One of {@linkcode SETUPS}. */
export type Setup = typeof SETUPS[number];

/** The server's name in the report: `ours`, or `ours (redis)` and the like. */
export function setupName(setup: Setup): string {
  return setup === "memory" ? "ours" : `ours (${setup})`;
}

/** A server the bench can start as a child process: `<executable> <args>`. */
export interface ServerCommand {
  /** Shown in the report: `ours`, `ours (redis)`, `baseline`, `sink`. */
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
  /**
   * Our server's setup: `startServerProcess()` starts its Redis or makes
   * its database folder, and as many instances as it has.
   * @default {"memory"}
   */
  setup?: Setup;
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
  /**
   * Where our server keeps its messages, how many instances.
   * @default {"memory"}
   */
  setup?: Setup | undefined;
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

/**
 * Our server's flags; a setup other than `memory` gets its `--db` or
 * `--redis` when it starts (a new database folder, a Redis of its own).
 */
function ourFlags(options: ServerOptions): string[] {
  const inMemory = (options.setup ?? "memory") === "memory";
  return [
    ...LISTEN,
    ...BENCH_SETTINGS.filter(({ flag }) => inMemory || flag !== "--db")
      .flatMap(({ flag, value }) => [flag, value]),
    ...options.serverArgs ?? [],
  ];
}

/** Our chat server, `main.ts`, with the bench's settings. */
export function ourServer(options: ServerOptions = {}): ServerCommand {
  const serverFlags = ourFlags(options);
  const setup = options.setup ?? "memory";
  return {
    name: setupName(setup),
    setup,
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
  const setup = options.setup ?? "memory";
  return {
    name: setupName(setup),
    setup,
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
 * Our server in each setup and the baseline on one runtime, in that order;
 * a CPU profile of each goes into `<profileDir>/<runtime>-<server>/`.
 */
export async function serverPair(
  runtime: Runtime,
  options: ServerOptions & { setups?: readonly Setup[] | undefined } = {},
): Promise<ServerCommand[]> {
  const { serverArgs, profileDir, setups = ["memory"] } = options;
  const dir = (name: string) =>
    profileDir && `${profileDir}/${runtime}-${name.replace(/\W+/g, "-")}`;
  const ours = [];
  for (const setup of setups) {
    const name = setupName(setup);
    const ourOptions = { serverArgs, profileDir: dir(name), setup };
    ours.push(
      runtime === "bun"
        ? await ourServerOnBun(ourOptions)
        : ourServer(ourOptions),
    );
  }
  const baseline = runtime === "bun"
    ? await baselineServerOnBun({ profileDir: dir("baseline") })
    : baselineServer({ profileDir: dir("baseline") });
  return [...ours, baseline];
}
