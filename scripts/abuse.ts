/**
 * The abuse run of `deno task soak --abuse`: the attacks one hostile client
 * machine can make (`scripts/_abuse_attacks.ts`), one after another against
 * one server started as a user starts it, while a well-behaved client on
 * another address chats. For each attack it reports the server's memory,
 * its CPU and the victim's round trips; it passes when the server stayed
 * up, its memory within the bound, and every round trip of the victim took
 * less than {@linkcode VICTIM_MAX_MS}.
 *
 * The server listens on `::`: the attacks come from 127.0.0.1 and the
 * victim from `::1`, so the per-address limits tell them apart as they would
 * two machines.
 *
 * @module
 */
import { type Attack, attacks, BIG_ROOM } from "./_abuse_attacks.ts";
import {
  readMetrics,
  residentKiB,
  startServerProcess,
} from "./_server_process.ts";
import type { VictimAnswer, VictimRequest } from "./_abuse_victim.ts";
import { delay, within } from "./_timing.ts";

/** Options of {@linkcode runAbuse}. */
export interface AbuseOptions {
  /**
   * How long each attack lasts, in seconds.
   * @default {5}
   */
  secondsPerAttack?: number;
  /**
   * The names of the attacks to play (see `scripts/_abuse_attacks.ts`).
   * @default {all of them}
   */
  only?: readonly string[] | undefined;
  /** More flags for the server. */
  serverArgs?: readonly string[] | undefined;
}

/** The longest round trip the victim may see under any attack. */
export const VICTIM_MAX_MS = 500;
/** How much the server's memory may grow over its start, under any attack. */
export const MEMORY_BOUND_MIB = 512;

const VICTIM_ROOM = "victim-room";
/** The victim's pace: one message every this many milliseconds. */
const VICTIM_EVERY_MS = 200;
/** A round trip that takes longer than this counts as lost. */
const LOST_MS = 3000;

/** What one attack did to the server and the victim. */
export interface AttackReport {
  name: string;
  what: string;
  /** Peak resident memory during the attack, in MiB. */
  peakMiB: number;
  /** The server's CPU use during the attack, in percent of one core. */
  cpuPercent: number;
  /** The victim's round trips during the attack, in milliseconds. */
  victim: {
    count: number;
    p50: number;
    p99: number;
    max: number;
    lost: number;
  };
  /** Whether `GET /healthz` answered 200 right after the attack. */
  healthy: boolean;
}

/** What a whole abuse run saw. */
export interface AbuseReport {
  startMiB: number;
  attacks: AttackReport[];
  exitCode: number;
  /** The live gauges once the attacks were over: only the victim is left. */
  afterAttacks: Record<string, number>;
}

/** Runs every attack in turn against a fresh server; reports each. */
export async function runAbuse(
  options: AbuseOptions = {},
): Promise<AbuseReport> {
  const seconds = options.secondsPerAttack ?? 5;
  const dir = await Deno.makeTempDir({ prefix: "chat_abuse_" });
  const server = await startServerProcess(
    [
      "--db",
      `${dir}/chat.db`,
      "--log-level",
      "error",
      ...options.serverArgs ?? [],
    ],
    { host: "::" },
  );
  const victimHttp = `http://[::1]:${server.port}`;
  try {
    await seedBigRoom(victimHttp);
    const startMiB = (await residentKiB(server.pid)) / 1024;
    await using victim = await Victim.connect(`ws://[::1]:${server.port}`);
    const reports: AttackReport[] = [];
    const played = attacks(VICTIM_ROOM).filter((attack) =>
      options.only === undefined || options.only.includes(attack.name)
    );
    for (const attack of played) {
      reports.push(
        await play(attack, {
          port: server.port,
          pid: server.pid,
          victim,
          seconds,
        }),
      );
      reports.at(-1)!.healthy = await isHealthy(victimHttp);
    }
    const afterAttacks = await settled(server.httpUrl);
    return {
      startMiB,
      attacks: reports,
      afterAttacks,
      exitCode: await server.stop(),
    };
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Whether a report shows the server standing up to every attack. */
export function abusePassed(report: AbuseReport): boolean {
  return report.exitCode === 0 &&
    report.attacks.every((attack) =>
      attack.healthy && attack.victim.lost === 0 && attack.victim.count > 0 &&
      attack.victim.max < VICTIM_MAX_MS &&
      attack.peakMiB - report.startMiB < MEMORY_BOUND_MIB
    );
}

/** The report as a table a person reads, ending with PASS or FAIL. */
export function formatAbuseReport(report: AbuseReport): string {
  const rows = report.attacks.map((attack) => {
    const { victim } = attack;
    return [
      attack.name.padEnd(18),
      `${attack.peakMiB.toFixed(0).padStart(5)} MiB`,
      `${attack.cpuPercent.toFixed(0).padStart(4)} %`,
      `${victim.count.toString().padStart(4)}`,
      `${victim.p50.toFixed(1).padStart(6)} ${
        victim.p99.toFixed(1).padStart(6)
      } ${victim.max.toFixed(1).padStart(6)} ms`,
      `${victim.lost}`.padStart(4),
      attack.healthy ? "up" : "DOWN",
    ].join("  ");
  });
  const gauges = Object.entries(report.afterAttacks)
    .map(([name, value]) => `${name} ${value}`).join(", ");
  return [
    `server RSS at start: ${
      report.startMiB.toFixed(0)
    } MiB; bound: start + ${MEMORY_BOUND_MIB} MiB`,
    "attack              peak RSS     CPU  trips  victim p50    p99    max     lost  server",
    ...rows,
    `after the attacks: ${gauges}; exit code after SIGTERM: ${report.exitCode}`,
    ...report.attacks.map((attack) => `  ${attack.name}: ${attack.what}`),
    abusePassed(report)
      ? `PASS: the server stayed up, within its memory bound, and every round trip of the victim took under ${VICTIM_MAX_MS} ms`
      : "FAIL",
  ].join("\n");
}

/** Runs one attack for `seconds` while watching the server and the victim. */
async function play(
  attack: Attack,
  run: { port: number; pid: number; victim: Victim; seconds: number },
): Promise<AttackReport> {
  const controller = new AbortController();
  const ticksBefore = await cpuTicks(run.pid);
  const startedAt = performance.now();
  await run.victim.startPhase();
  let peakKiB = await residentKiB(run.pid);
  const attacking = attack.run({ port: run.port }, controller.signal);
  const deadline = Date.now() + run.seconds * 1000;
  while (Date.now() < deadline) {
    await delay(250);
    peakKiB = Math.max(peakKiB, await residentKiB(run.pid));
  }
  controller.abort();
  await within(attacking, `the attack "${attack.name}" to stop`, 15_000)
    .catch(() => {});
  const seconds = (performance.now() - startedAt) / 1000;
  const cpuPercent = (await cpuTicks(run.pid) - ticksBefore) / seconds;
  // A moment for the server to let go of what the attack held.
  await delay(500);
  return {
    name: attack.name,
    what: attack.what,
    peakMiB: peakKiB / 1024,
    cpuPercent,
    victim: await run.victim.endPhase(),
    healthy: false,
  };
}

/**
 * The victim, in a worker thread of its own: the attacks keep this
 * thread's event loop busy, and must not delay the victim's own sends and
 * reads, or its round trips would measure the attacker.
 */
class Victim implements AsyncDisposable {
  readonly #worker: Worker;
  #answers: ((message: VictimAnswer) => void)[] = [];

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<VictimAnswer>) =>
      this.#answers.shift()?.(event.data);
  }

  /** Starts the victim on `url`; resolves once it has joined its room. */
  static async connect(url: string): Promise<Victim> {
    const worker = new Worker(
      new URL("./_abuse_victim.ts", import.meta.url),
      { type: "module" },
    );
    const victim = new Victim(worker);
    const answer = await within(
      victim.#ask({
        start: { url, room: VICTIM_ROOM, everyMs: VICTIM_EVERY_MS },
      }),
      "the victim to join",
      5000,
    );
    if ("error" in answer) {
      worker.terminate();
      throw new Error(`the victim could not connect: ${answer.error}`);
    }
    return victim;
  }

  /** Forgets the round trips so far. */
  async startPhase(): Promise<void> {
    await this.#ask({ reset: true });
  }

  /** The round trips since {@linkcode startPhase}, and those lost. */
  async endPhase(): Promise<AttackReport["victim"]> {
    const answer = await this.#ask({ report: { lostMs: LOST_MS } });
    if (!("trips" in answer)) throw new Error("the victim did not report");
    const trips = answer.trips.toSorted((a, b) => a - b);
    const at = (share: number) =>
      trips[Math.min(trips.length - 1, Math.floor(share * trips.length))] ?? 0;
    return {
      count: trips.length,
      p50: at(0.5),
      p99: at(0.99),
      max: trips.at(-1) ?? 0,
      lost: answer.lost,
    };
  }

  #ask(request: VictimRequest): Promise<VictimAnswer> {
    const { promise, resolve } = Promise.withResolvers<VictimAnswer>();
    this.#answers.push(resolve);
    this.#worker.postMessage(request);
    return promise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await within(this.#ask({ stop: true }), "the victim to stop", 5000)
      .catch(() => {});
    this.#worker.terminate();
  }
}

/** Fills the room whose pages the "unread pages" attack asks for. */
async function seedBigRoom(httpUrl: string): Promise<void> {
  const message = "€".repeat(5000);
  for (let i = 0; i < 40; i++) {
    const response = await fetch(`${httpUrl}/send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ room_id: BIG_ROOM, from: "Seed", message }),
    });
    await response.body?.cancel();
  }
}

/** The CPU time a process has used, in clock ticks (a hundredth of a second). */
async function cpuTicks(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
    stderr: "null",
  }).output();
  const fields = new TextDecoder().decode(stdout).split(") ")[1]!.split(" ");
  // utime and stime, the 14th and 15th fields, counted from the state (3rd).
  return Number(fields[11]) + Number(fields[12]);
}

async function isHealthy(httpUrl: string): Promise<boolean> {
  try {
    const response = await within(fetch(`${httpUrl}/healthz`), "healthz", 5000);
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** The gauges once the attackers' connections are gone (bounded wait). */
async function settled(httpUrl: string): Promise<Record<string, number>> {
  const names = ["chat_connections_open", "chat_rooms", "chat_room_members"];
  let gauges = await readMetrics(httpUrl, names);
  for (let i = 0; i < 100 && gauges.chat_connections_open! > 1; i++) {
    await delay(100);
    gauges = await readMetrics(httpUrl, names);
  }
  return gauges;
}
