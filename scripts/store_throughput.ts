/**
 * Compares delivered messages per second with `--db :memory:` and with an
 * SQLite file, on the same workload in the same run.
 *
 * Each round starts `main.ts` as a child process (a fresh database file for
 * SQLite), connects `rooms × members` WebSocket clients, and lets every
 * client send `messages` messages with at most `window` of its own in
 * flight. A message counts once per member it reaches. The stores take
 * turns, round by round, so that a busy machine hurts both alike.
 *
 * Two figures per round: delivered messages per second of wall-clock time,
 * and per second of the server process's own CPU time (from
 * `/proc/<pid>/stat`, so on Linux only). On a machine shared with other
 * work the wall-clock figure swings with their load; the CPU figure is the
 * throughput the server would have with a core to itself, but it does not
 * see time spent waiting for the disk. Deno lets only `--allow-all` read
 * another process's `/proc` files, hence `-A` in the task; the servers
 * themselves run with the permissions of `deno task start`.
 *
 * ```sh
 * deno task store-throughput
 * deno task store-throughput --rounds 9 --rooms 8 --members 5 --messages 500
 * ```
 *
 * @module
 */
import { NO_RATE_LIMITS } from "./_server_process.ts";
import { optionsOrExit, parseFlags, wholeNumbers } from "./_usage_error.ts";

const USAGE =
  `Usage: deno task store-throughput [--rounds N] [--rooms N] [--members N] [--messages N] [--window N]

Delivered messages per second with the server's history in memory and in an
SQLite file, the same WebSocket load on each, in turns.

  --rounds N    rounds of each store (default 5)
  --rooms N     rooms (default 4)
  --members N   members per room, each a sender (default 5)
  --messages N  messages each member sends (default 1000)
  --window N    messages a member may have in flight (default 8)
  -h, --help    show this help`;

/** The settings of the command line, or `undefined` for `--help`. */
function parseSettings(args: string[]) {
  const values = parseFlags(args, {
    rounds: { type: "string", default: "5" },
    rooms: { type: "string", default: "4" },
    members: { type: "string", default: "5" },
    messages: { type: "string", default: "1000" },
    window: { type: "string", default: "8" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return undefined;
  return wholeNumbers(values, [
    "rounds",
    "rooms",
    "members",
    "messages",
    "window",
  ]);
}

const settings = optionsOrExit(parseSettings, USAGE);

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Starts the server on `db` and returns its WebSocket URL and a stop(). */
async function startServer(db: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-sys=statfs",
      MAIN,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--db",
      db,
      // A benchmark measures the server, not the limits that protect it.
      ...NO_RATE_LIMITS,
      "--log-level",
      "warn",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let printed = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (!/History:/.test(printed)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server did not start:\n${printed}`);
    printed += value;
  }
  const url = /WebSocket: +(ws:\/\/\S+)/.exec(printed)![1]!;
  const pid = child.pid;
  const draining = (async () => {
    while (!(await reader.read()).done);
  })();
  return {
    url,
    /** CPU seconds the server has used so far (user + system). */
    async cpuSeconds(): Promise<number> {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      // Fields after the command name, which is in parentheses: utime and
      // stime are the 12th and 13th, in clock ticks (100 per second).
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100;
    },
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await draining;
    },
  };
}

/**
 * Connects one client and joins its room; `run()` then sends its messages,
 * keeping `window` of its own in flight, and resolves with how many
 * messages it received once it has every message of its room.
 */
async function joinClient(url: string, room: string, name: string) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const expected = settings.members * settings.messages;
  let received = 0;
  let sent = 0;
  const done = Promise.withResolvers<void>();
  const joined = Promise.withResolvers<void>();
  const sendOne = () =>
    socket.send(JSON.stringify({
      type: "send-message",
      room_id: room,
      from: name,
      message: `${name} says hello for the ${sent++}th time`,
    }));
  socket.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "join-room" && frame.from === name) joined.resolve();
    if (frame.type !== "receive-message") return;
    received++;
    if (frame.from === name && sent < settings.messages) sendOne();
    if (received === expected) done.resolve();
  };
  socket.send(JSON.stringify({ type: "join-room", room_id: room, from: name }));
  await joined.promise;

  return {
    async run(): Promise<number> {
      while (sent < Math.min(settings.window, settings.messages)) sendOne();
      await done.promise;
      const closed = new Promise((resolve) => socket.onclose = resolve);
      socket.close();
      await closed;
      return received;
    },
  };
}

/** Delivered messages per second of wall-clock and of server CPU time. */
interface Rate {
  wall: number;
  cpu: number;
}

/** One round on a fresh server. */
async function measure(db: string): Promise<Rate> {
  const server = await startServer(db);
  try {
    const joining = [];
    for (let r = 0; r < settings.rooms; r++) {
      for (let m = 0; m < settings.members; m++) {
        joining.push(joinClient(server.url, `room-${r}`, `r${r}m${m}`));
      }
    }
    const clients = await Promise.all(joining);
    const cpuBefore = await server.cpuSeconds();
    const began = performance.now();
    const counts = await Promise.all(clients.map((client) => client.run()));
    const delivered = counts.reduce((a, b) => a + b, 0);
    const wallSeconds = (performance.now() - began) / 1000;
    const cpuSeconds = await server.cpuSeconds() - cpuBefore;
    return { wall: delivered / wallSeconds, cpu: delivered / cpuSeconds };
  } finally {
    await server.stop();
  }
}

const median = (numbers: number[]) =>
  [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

const dir = await Deno.makeTempDir({ prefix: "chat_throughput_" });
const results = { memory: [] as Rate[], sqlite: [] as Rate[] };
const format = (rate: Rate) =>
  `${Math.round(rate.wall)}/s wall, ${Math.round(rate.cpu)}/s CPU`;
try {
  console.log(
    `${settings.rooms} rooms x ${settings.members} members, ` +
      `${settings.messages} messages each, window ${settings.window}, ` +
      `${settings.rounds} ${settings.rounds === 1 ? "round" : "rounds"}`,
  );
  for (let round = 1; round <= settings.rounds; round++) {
    const memory = await measure(":memory:");
    const sqlite = await measure(`${dir}/round-${round}.db`);
    results.memory.push(memory);
    results.sqlite.push(sqlite);
    console.log(
      `round ${round}: :memory: ${format(memory)} | SQLite ${format(sqlite)}`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

const percent = (cost: number) => `${(cost * 100).toFixed(1)}%`;
for (const kind of ["wall", "cpu"] as const) {
  const memory = results.memory.map((rate) => rate[kind]);
  const sqlite = results.sqlite.map((rate) => rate[kind]);
  // Each round's pair ran back to back, so a cost per pair is less exposed
  // to other load on the machine than a cost of the medians.
  const costs = sqlite.map((rate, i) => 1 - rate / memory[i]!);
  console.log(
    `${kind === "wall" ? "wall-clock" : "server CPU"}: median delivered ` +
      `messages/s :memory: ${Math.round(median(memory))}, SQLite ` +
      `${Math.round(median(sqlite))}; SQLite costs ${percent(median(costs))} ` +
      `(rounds ${percent(Math.min(...costs))} to ${
        percent(Math.max(...costs))
      })`,
  );
}
console.log("target: SQLite costs under 15% of the in-memory throughput");
