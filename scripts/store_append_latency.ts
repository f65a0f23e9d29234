/**
 * Append latency and throughput of each message store, side by side in one
 * run: in memory, SQLite (a file), and Redis with and without
 * `appendfsync always`. Redis is a `redis-server` this script starts on a
 * free port and stops (Debian's `redis-server` must be installed).
 *
 * Latency: appends one after another, each awaited (one client, one room),
 * median and p99. Throughput: `--concurrency` appends in flight at a time,
 * over `--rooms` rooms. The stores take turns, round by round, so that a
 * busy machine hurts all alike.
 *
 * ```sh
 * deno task store-latency
 * deno task store-latency --rounds 5 --appends 5000 --concurrency 64
 * ```
 *
 * @module
 */
import { RedisConnection } from "../lib/redis/redis_connection.ts";
import { RedisStore } from "../lib/redis/redis_store.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";
import type { MessageStore } from "../lib/store/store.ts";
import { startRedisServer } from "./_redis_server.ts";
import { optionsOrExit, parseFlags, wholeNumbers } from "./_usage_error.ts";

const USAGE =
  `Usage: deno task store-latency [--rounds N] [--appends N] [--concurrency N] [--rooms N]

Appends to each store (memory, SQLite, Redis, Redis with appendfsync
always) in turns: one after another for the latency, N in flight for the
throughput.

  --rounds N       rounds of every store (default 3)
  --appends N      appends per store and round (default 2000)
  --concurrency N  appends in flight for the throughput (default 32)
  --rooms N        rooms the appends go to (default 8)
  -h, --help       show this help`;

/** The settings of the command line, or `undefined` for `--help`. */
function parseSettings(args: string[]) {
  const values = parseFlags(args, {
    rounds: { type: "string", default: "3" },
    appends: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "32" },
    rooms: { type: "string", default: "8" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return undefined;
  return wholeNumbers(values, ["rounds", "appends", "concurrency", "rooms"]);
}

const settings = optionsOrExit(parseSettings, USAGE);

/** A store to measure, opened fresh for each round. */
interface Subject {
  name: string;
  open(dir: string): Promise<{ store: MessageStore; close(): Promise<void> }>;
}

function redisSubject(name: string, durable: boolean): Subject {
  return {
    name,
    async open() {
      const redis = await startRedisServer({ durable });
      const connection = await RedisConnection.open({ url: redis.url });
      const store = new RedisStore({ connection });
      return {
        store,
        async close() {
          await store.close();
          await redis.stop();
        },
      };
    },
  };
}

const SUBJECTS: Subject[] = [
  {
    name: "memory",
    open: () => {
      const store = new MemoryStore();
      return Promise.resolve({ store, close: () => store.close() });
    },
  },
  {
    name: "SQLite file",
    open: (dir) => {
      const store = new SqliteStore({
        path: `${dir}/${crypto.randomUUID()}.db`,
      });
      return Promise.resolve({ store, close: () => store.close() });
    },
  },
  redisSubject("Redis, no persistence", false),
  redisSubject("Redis, appendfsync always", true),
];

/** Median and p99 of sequential appends, in ms. */
async function latency(store: MessageStore): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < settings.appends; i++) {
    const began = performance.now();
    await store.append({ room_id: "latency", from: "bench", message: `${i}` });
    times.push(performance.now() - began);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.floor(q * (times.length - 1))]!;
  return [at(0.5), at(0.99)];
}

/** Appends per second with `concurrency` in flight. */
async function throughput(store: MessageStore): Promise<number> {
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (next < settings.appends) {
        const i = next++;
        await store.append({
          room_id: `room-${i % settings.rooms}`,
          from: "bench",
          message: `message ${i}`,
        });
      }
    }),
  );
  return settings.appends / ((performance.now() - began) / 1000);
}

const results = new Map<string, number[][]>();
const dir = await Deno.makeTempDir({ prefix: "chat_latency_" });
try {
  for (let round = 1; round <= settings.rounds; round++) {
    for (const subject of SUBJECTS) {
      const { store, close } = await subject.open(dir);
      try {
        const [p50, p99] = await latency(store);
        const rate = await throughput(store);
        results.set(subject.name, [
          ...results.get(subject.name) ?? [],
          [p50!, p99!, rate],
        ]);
      } finally {
        await close();
      }
    }
    console.error(`round ${round} of ${settings.rounds} done`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

const median = (numbers: number[]) =>
  [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
console.log(
  `${settings.appends} appends per measure, ${settings.concurrency} in flight ` +
    `over ${settings.rooms} rooms for throughput; medians of ${settings.rounds} rounds`,
);
console.log("| store | append p50 | append p99 | appends/s |");
console.log("| --- | --- | --- | --- |");
for (const [name, rows] of results) {
  const [p50, p99, rate] = [0, 1, 2].map((i) => median(rows.map((r) => r[i]!)));
  console.log(
    `| ${name} | ${p50!.toFixed(3)} ms | ${p99!.toFixed(3)} ms | ${
      Math.round(rate!)
    } |`,
  );
}
