/**
 * A soak run, bounded in time: starts the chat server as a child process
 * and has many clients join, leave, send and disconnect at random, half of
 * the sessions on real WebSockets that close cleanly, half on raw TCP
 * connections that vanish without a closing handshake (some in the middle
 * of a frame). Then it reports the server's memory at the start and the
 * end, and the live map sizes once every client is gone: open connections,
 * rooms and room members must all be back to 0.
 *
 * ```sh
 * deno task soak                            # 30 s, 20 clients
 * deno task soak --seconds 120 --clients 50
 * deno task soak --sqlite --back-to-back    # an SQLite file; no pauses
 * ```
 *
 * Only 127.0.0.1 is contacted. Exits 1 when something was left behind or
 * the server misbehaved.
 *
 * @module
 */
import { attacks } from "./_abuse_attacks.ts";
import { optionsOrExit, parseFlags, UsageError } from "./_usage_error.ts";
import {
  type AbuseOptions,
  abusePassed,
  formatAbuseReport,
  runAbuse,
} from "./abuse.ts";
import {
  NO_RATE_LIMITS,
  readMetrics,
  residentKiB,
  startServerProcess,
} from "./_server_process.ts";
import { type ClientCounts, soakClient } from "./_soak_client.ts";
import { delay } from "./_timing.ts";

/** Options of {@linkcode runSoak}. */
export interface SoakOptions {
  /**
   * How long the clients keep going, in seconds.
   * @default {30}
   */
  seconds?: number;
  /**
   * How many clients run at once.
   * @default {20}
   */
  clients?: number;
  /**
   * Where the server keeps messages: in memory, or in an SQLite file in a
   * temporary folder (removed afterwards).
   * @default {"memory"}
   */
  store?: "memory" | "sqlite";
  /**
   * Longest pause between two frames of a client, in milliseconds; 0 sends
   * them back to back, so that closes race the frames still queued.
   * @default {20}
   */
  maxPauseMs?: number;
}

/** The live gauges that must be back to 0 once every client is gone. */
const GAUGES = [
  "chat_connections_open",
  "chat_rooms",
  "chat_room_members",
] as const;

/** What a soak run saw. */
export interface SoakReport {
  seconds: number;
  clients: number;
  store: "memory" | "sqlite";
  maxPauseMs: number;
  /** Sessions, frames and failures, as the clients counted them. */
  counts: ClientCounts;
  /** `chat_messages_received_total` at the end. */
  messagesStored: number;
  /** The server's resident memory (VmRSS), in KiB. */
  rssKiB: { start: number; peak: number; end: number };
  /** The live gauges once every client had gone. */
  afterClients: Record<typeof GAUGES[number], number>;
  /** Whether `GET /healthz` still answered 200 at the end. */
  healthy: boolean;
  /** The server's exit code after SIGTERM. */
  exitCode: number;
  /** What the server logged at warn level or above. */
  serverLogs: string[];
}

/** How long the gauges may take to reach 0 once the clients are done. */
const SETTLE_MS = 5000;

/** Runs a soak against a fresh server and reports what it saw. */
export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const seconds = options.seconds ?? 30;
  const clients = options.clients ?? 20;
  const dir = options.store === "sqlite"
    ? await Deno.makeTempDir({ prefix: "chat_soak_" })
    : undefined;
  const server = await startServerProcess([
    "--db",
    dir ? `${dir}/chat.db` : ":memory:",
    ...NO_RATE_LIMITS,
    // Every client comes from this machine's address, one after another.
    "--max-connections-per-ip",
    "0",
    "--ip-connect-rate",
    "0",
    "--log-level",
    "warn",
  ]);
  try {
    const rssKiB = await residentKiB(server.pid);
    const run = {
      wsUrl: server.wsUrl,
      deadline: Date.now() + seconds * 1000,
      counts: { websocket: 0, raw: 0, halfFrame: 0, failed: 0, framesSent: 0 },
      maxPauseMs: options.maxPauseMs ?? 20,
    };
    const sampling = { peak: rssKiB };
    await Promise.all([
      ...Array.from({ length: clients }, (_, i) => soakClient(`c${i}`, run)),
      samplePeak(server.pid, run.deadline, sampling),
    ]);
    const afterClients = await settled(server.httpUrl);
    const end = await residentKiB(server.pid);
    const { chat_messages_received_total: messagesStored } = await readMetrics(
      server.httpUrl,
      ["chat_messages_received_total"],
    );
    const healthy = await isHealthy(server.httpUrl);
    const exitCode = await server.stop();
    return {
      seconds,
      clients,
      store: options.store ?? "memory",
      maxPauseMs: run.maxPauseMs,
      counts: run.counts,
      messagesStored,
      rssKiB: { start: rssKiB, peak: Math.max(sampling.peak, end), end },
      afterClients,
      healthy,
      exitCode,
      serverLogs: server.logs(),
    };
  } finally {
    await server.stop();
    if (dir) await Deno.remove(dir, { recursive: true });
  }
}

/** Whether a report shows a clean run: nothing left, the server fine. */
export function soakPassed(report: SoakReport): boolean {
  return Object.values(report.afterClients).every((value) => value === 0) &&
    report.healthy && report.exitCode === 0 && report.serverLogs.length === 0;
}

/** The report as a person reads it. */
export function formatReport(report: SoakReport): string {
  const { counts, rssKiB, afterClients } = report;
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
  const gauges = Object.entries(afterClients)
    .map(([name, value]) => `${name} ${value}`);
  return [
    `soak: ${report.seconds} s, ${report.clients} clients, ` +
    `${report.store} store, ${
      report.maxPauseMs > 0
        ? `pauses of up to ${report.maxPauseMs} ms`
        : "frames back to back"
    }`,
    `sessions: ${counts.websocket} WebSocket (closed cleanly), ` +
    `${counts.raw} raw TCP (dropped without a close frame, ` +
    `${counts.halfFrame} of them mid-frame), ${counts.failed} failed`,
    `frames sent: ${counts.framesSent}; ` +
    `messages stored: ${report.messagesStored}`,
    `server RSS: ${mib(rssKiB.start)} at start, ` +
    `${mib(rssKiB.peak)} at peak, ${mib(rssKiB.end)} at end`,
    `after all clients left: ${gauges.join(", ")}`,
    `GET /healthz: ${report.healthy ? "200" : "no answer"}; ` +
    `exit code after SIGTERM: ${report.exitCode}`,
    `server warnings and errors: ${report.serverLogs.length}`,
    ...report.serverLogs.slice(0, 10).map((line) => `  ${line}`),
    soakPassed(report) ? "PASS: nothing left behind" : "FAIL",
  ].join("\n");
}

/** Keeps the highest resident memory seen, every half second. */
async function samplePeak(
  pid: number,
  deadline: number,
  sampling: { peak: number },
) {
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    sampling.peak = Math.max(sampling.peak, await residentKiB(pid));
    await delay(Math.min(500, Math.max(0, deadline - Date.now())));
  }
}

/** The gauges once all are 0, or as they are after {@linkcode SETTLE_MS}. */
async function settled(httpUrl: string): Promise<SoakReport["afterClients"]> {
  const deadline = Date.now() + SETTLE_MS;
  let gauges = await readMetrics(httpUrl, GAUGES);
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (Object.values(gauges).every((value) => value === 0)) break;
    await delay(50);
    gauges = await readMetrics(httpUrl, GAUGES);
  }
  return gauges;
}

async function isHealthy(httpUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${httpUrl}/healthz`);
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

const USAGE =
  `Usage: deno task soak [--seconds N] [--clients N] [--sqlite] [--back-to-back]
       deno task soak --abuse [--seconds N] [--attack NAME]...

Starts the chat server on 127.0.0.1 and has clients join, leave, send and
disconnect at random, then checks that nothing is left behind.

  --seconds N     how long the clients keep going, 1 to 3600 (default 30)
  --clients N     how many clients run at once, 1 to 1000 (default 20)
  --sqlite        the server keeps messages in an SQLite file, not in memory
  --back-to-back  clients send without pausing between frames
  -h, --help      show this help

With --abuse, it plays the attacks of one hostile machine instead, one after
another (each for --seconds, default 5), while a well-behaved client on
another address chats, and prints the server's memory and CPU and the
client's round trips under each.

  --attack NAME   play only this attack (again for more): ${
    attacks("").map((attack) => attack.name).join(", ")
  }

Exits 0 when the run is clean, 1 when something was left behind (or, with
--abuse, when the server fell over, outgrew its memory bound, or kept the
client waiting 500 ms or more).`;

function wholeNumber(text: string, flag: string, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > max) {
    throw new UsageError(
      `${flag} must be a whole number from 1 to ${max}, not "${text}"`,
    );
  }
  return value;
}

/** What the command line asked for: a soak run, or an abuse run. */
type Run =
  | { abuse: false; options: Required<SoakOptions> }
  | { abuse: true; options: AbuseOptions };

/** The run the command line asks for, or `undefined` for `--help`. */
function parseOptions(args: string[]): Run | undefined {
  const values = parseFlags(args, {
    seconds: { type: "string" },
    clients: { type: "string", default: "20" },
    sqlite: { type: "boolean", default: false },
    "back-to-back": { type: "boolean", default: false },
    abuse: { type: "boolean", default: false },
    attack: { type: "string", multiple: true },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return undefined;
  if (values.abuse) {
    const names = attacks("").map((attack) => attack.name);
    for (const name of values.attack ?? []) {
      if (!names.includes(name)) {
        throw new UsageError(
          `--attack must be one of ${names.join(", ")}, not "${name}"`,
        );
      }
    }
    return {
      abuse: true,
      options: {
        secondsPerAttack: wholeNumber(values.seconds ?? "5", "--seconds", 3600),
        only: values.attack,
      },
    };
  }
  if (values.attack) throw new UsageError("--attack goes with --abuse");
  return {
    abuse: false,
    options: {
      seconds: wholeNumber(values.seconds ?? "30", "--seconds", 3600),
      clients: wholeNumber(values.clients, "--clients", 1000),
      store: values.sqlite ? "sqlite" : "memory",
      maxPauseMs: values["back-to-back"] ? 0 : 20,
    },
  };
}

if (import.meta.main) {
  const run = optionsOrExit(parseOptions, USAGE);
  if (run.abuse) {
    console.log(
      "soak --abuse: starting a server on ::, then each attack from " +
        `127.0.0.1 for ${run.options.secondsPerAttack} s while a client on ::1 chats`,
    );
    const report = await runAbuse(run.options);
    console.log(formatAbuseReport(report));
    if (!abusePassed(report)) Deno.exit(1);
  } else {
    const { options } = run;
    console.log(
      `soak: starting a server on 127.0.0.1, then ${options.clients} clients ` +
        `for ${options.seconds} s`,
    );
    const report = await runSoak(options);
    console.log(formatReport(report));
    if (!soakPassed(report)) Deno.exit(1);
  }
}
