/**
 * What Linux tells about a process in `/proc`: its memory, and how much each
 * of its threads ran and waited to run.
 *
 * @module
 */

/** The resident set size of a process, in bytes (`VmRSS`). */
export function readRssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * The CPU time a whole process (every thread) has used, user and system,
 * in nanoseconds, from `/proc/<pid>/stat`: to 10 ms.
 */
export function readProcessCpuNs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name, in parentheses, may hold spaces: count after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after ")".
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * (1e9 / TICKS_PER_SECOND);
}

/** How long a thread has run on a CPU and waited for one, in nanoseconds. */
export interface ThreadTimes {
  runNs: number;
  waitNs: number;
}

/** A thread's times from `/proc/<pid>/task/<tid>/schedstat`. */
export function readThreadTimes(pid: number, tid = pid): ThreadTimes {
  const text = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/schedstat`);
  const [runNs = 0, waitNs = 0] = text.trim().split(" ").map(Number);
  return { runNs, waitNs };
}

/** How much a thread ran over an interval. */
export interface ThreadLoad {
  /** CPU time, in nanoseconds. */
  runNs: number;
  /** Share of the interval spent running, from 0 to 1. */
  busy: number;
  /** Share spent running or ready to run but waiting for a CPU. */
  demand: number;
}

/**
 * Watches how busy some threads are. A thread that was running or waiting
 * to run for the whole interval (demand near 1) is the bottleneck, however
 * many other programs share the CPU.
 */
export class ThreadMeter {
  #pid: number;
  #tids: number[];
  #start: ThreadTimes[];
  #startedAt: number;

  /** Starts watching the threads `tids` of process `pid`. */
  constructor(pid: number, tids: number[]) {
    this.#pid = pid;
    this.#tids = tids;
    this.#start = tids.map((tid) => readThreadTimes(pid, tid));
    this.#startedAt = performance.now();
  }

  /**
   * Each thread's CPU time so far (`runNs`), and its share of the interval
   * spent running (`busy`) and running or waiting to run (`demand`), from
   * 0 to 1.
   */
  read(): ThreadLoad[] {
    const elapsedNs = (performance.now() - this.#startedAt) * 1e6;
    return this.#tids.map((tid, i) => {
      const now = readThreadTimes(this.#pid, tid);
      const start = this.#start[i]!;
      const runNs = now.runNs - start.runNs;
      return {
        runNs,
        busy: runNs / elapsedNs,
        demand: (runNs + now.waitNs - start.waitNs) / elapsedNs,
      };
    });
  }
}
