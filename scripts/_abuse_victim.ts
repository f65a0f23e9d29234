/**
 * The victim of the abuse run, as a worker: a well-behaved chat client that
 * sends one message every few hundred milliseconds into its room and times
 * each until its own copy comes back.
 *
 * @module
 */

/** What the abuse run asks of the victim. */
export type VictimRequest =
  | { start: { url: string; room: string; everyMs: number } }
  | { reset: true }
  | { report: { lostMs: number } }
  | { stop: true };

/** What the victim answers, one answer per request. */
export type VictimAnswer =
  | { ok: true }
  | { error: string }
  | { trips: number[]; lost: number };

/** The worker's own scope, as much of it as this file uses. */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<VictimRequest>) => void) | null;
  postMessage(answer: VictimAnswer): void;
};

let socket: WebSocket | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
let ping = () => {};
let interval = 1000;
const sentAt = new Map<string, number>();
let trips: number[] = [];
let count = 0;

scope.onmessage = async ({ data }) => {
  if ("start" in data) scope.postMessage(await start(data.start));
  else if ("reset" in data) {
    trips = [];
    sentAt.clear();
    scope.postMessage({ ok: true });
  } else if ("report" in data) {
    scope.postMessage(await report(data.report.lostMs));
  } else {
    clearInterval(timer);
    socket?.close();
    scope.postMessage({ ok: true });
  }
};

/**
 * The round trips so far, once every message sent has come back or is
 * lost (older than `lostMs`): a phase ends with no trip left in flight.
 */
async function report(lostMs: number): Promise<VictimAnswer> {
  clearInterval(timer);
  const isLost = (at: number) => performance.now() - at > lostMs;
  while ([...sentAt.values()].some((at) => !isLost(at))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const lost = sentAt.size;
  timer = setInterval(ping, interval);
  return { trips, lost };
}

async function start(
  { url, room, everyMs }: { url: string; room: string; everyMs: number },
): Promise<VictimAnswer> {
  const ws = new WebSocket(url);
  socket = ws;
  const joined = Promise.withResolvers<VictimAnswer>();
  ws.addEventListener(
    "error",
    () => joined.resolve({ error: "no connection" }),
  );
  ws.addEventListener(
    "open",
    () =>
      ws.send(
        JSON.stringify({ type: "join-room", room_id: room, from: "Victim" }),
      ),
  );
  ws.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "join-room" && frame.from === "Victim") {
      joined.resolve({ ok: true });
    }
    const at = sentAt.get(frame.message);
    if (frame.type !== "receive-message" || at === undefined) return;
    sentAt.delete(frame.message);
    trips.push(performance.now() - at);
  });
  ping = () => {
    if (ws.readyState !== WebSocket.OPEN) return;
    const message = `ping ${++count}`;
    sentAt.set(message, performance.now());
    ws.send(JSON.stringify({
      type: "send-message",
      room_id: room,
      from: "Victim",
      message,
    }));
  };
  interval = everyMs;
  timer = setInterval(ping, everyMs);
  return await joined.promise;
}
