/**
 * How the bench starts each server: every flag it passes lives here, so a
 * new server option (a store, a rate limit to switch off) is added in one
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
}

/** Options of {@linkcode ourServer} and {@linkcode baselineServer}. */
export interface ServerOptions {
  /**
   * Extra server flags, appended to our server's command line (e.g.
   * `--db bench.db` once there is a SQLite store).
   * @default {[]}
   */
  serverArgs?: string[] | undefined;
  /**
   * Write a CPU profile, and a Markdown summary of it, into this directory
   * when the server exits.
   */
  profileDir?: string | undefined;
}

/** Where every server listens: loopback, on a port the kernel picks. */
const LISTEN = ["--host", "127.0.0.1", "--port", "0"];

function script(path: string): string {
  return new URL(path, import.meta.url).href;
}

function profileFlags(dir: string | undefined): string[] {
  return dir === undefined ? [] : [`--cpu-prof-dir=${dir}`, "--cpu-prof-md"];
}

/**
 * Our chat server, `main.ts`, with the permissions of `deno task start`.
 * A store on disk will need `--allow-read`/`--allow-write` added here.
 */
export function ourServer(options: ServerOptions = {}): ServerCommand {
  return {
    name: "ours",
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      ...profileFlags(options.profileDir),
      script("../../main.ts"),
      ...LISTEN,
      ...options.serverArgs ?? [],
    ],
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
  };
}

/** A server that does nothing but feed the load generator: its ceiling. */
export function sinkServer(): ServerCommand {
  return {
    name: "sink",
    args: ["run", "--allow-net", script("./sink_server.ts"), ...LISTEN],
  };
}
