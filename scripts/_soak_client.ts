/**
 * One soak client: session after session until a deadline, each a real
 * `WebSocket` that closes cleanly or a raw TCP connection that vanishes
 * without a closing handshake, sending random joins, leaves and messages.
 *
 * @module
 */
import { RawWebSocket } from "./_raw_websocket.ts";
import { delay, within } from "./_timing.ts";

/** What the clients of one run count, together. */
export interface ClientCounts {
  /** Sessions on a `WebSocket`, closed with a handshake. */
  websocket: number;
  /** Sessions on raw TCP, dropped without a close frame. */
  raw: number;
  /** Raw sessions dropped in the middle of a frame. */
  halfFrame: number;
  /** Sessions that could not connect or broke off with an error. */
  failed: number;
  framesSent: number;
}

/** Where and until when the clients of one run play. */
export interface ClientRun {
  wsUrl: string;
  /** `Date.now()` after which no session starts and every one ends. */
  deadline: number;
  counts: ClientCounts;
  /** Longest pause between two frames, in milliseconds; 0 sends back to back. */
  maxPauseMs: number;
}

const ROOMS = Array.from({ length: 12 }, (_, i) => `soak-${i}`);
/** Bounds that keep every loop finite whatever the clock does. */
const MAX_SESSIONS = 100_000;
const MAX_STEPS_PER_SESSION = 40;
/** How long a connect or a close may take. */
const WAIT_MS = 5000;

/** Plays sessions of a random kind as `name` until the run's deadline. */
export async function soakClient(name: string, run: ClientRun): Promise<void> {
  for (let i = 0; i < MAX_SESSIONS && Date.now() < run.deadline; i++) {
    const steps = 1 + Math.floor(Math.random() * MAX_STEPS_PER_SESSION);
    try {
      if (Math.random() < 0.5) await webSocketSession(name, steps, run);
      else await rawSession(name, steps, run);
    } catch {
      run.counts.failed++;
    }
  }
}

/** A `WebSocket` that sends `steps` random frames, then closes cleanly. */
async function webSocketSession(name: string, steps: number, run: ClientRun) {
  const socket = new WebSocket(run.wsUrl);
  const closed = new Promise((resolve) => {
    socket.addEventListener("close", resolve);
  });
  const opened = new Promise<boolean>((resolve) => {
    socket.addEventListener("open", () => resolve(true));
    socket.addEventListener("close", () => resolve(false));
  });
  try {
    if (!await within(opened, "a WebSocket to open", WAIT_MS)) {
      throw new Error("could not connect");
    }
    run.counts.websocket++;
    const joined = new Set<string>();
    for (let step = 0; step < steps && Date.now() < run.deadline; step++) {
      socket.send(randomFrame(name, joined));
      run.counts.framesSent++;
      await pause(run.maxPauseMs);
    }
  } finally {
    socket.close();
    await within(closed, "a WebSocket to close", WAIT_MS);
  }
}

/** A raw TCP client that sends `steps` frames, then drops the connection. */
async function rawSession(name: string, steps: number, run: ClientRun) {
  const socket = await RawWebSocket.connect(run.wsUrl, { timeoutMs: WAIT_MS });
  run.counts.raw++;
  try {
    const joined = new Set<string>();
    for (let step = 0; step < steps && Date.now() < run.deadline; step++) {
      await socket.send(randomFrame(name, joined));
      run.counts.framesSent++;
      await pause(run.maxPauseMs);
    }
    if (Math.random() < 0.3) {
      await socket.sendHalf(randomFrame(name, joined));
      run.counts.halfFrame++;
    }
  } finally {
    await socket.abort();
  }
}

/**
 * A random client frame: mostly joins and messages, some leaves, and now
 * and then one the server refuses. `joined` tracks the rooms asked for.
 */
function randomFrame(from: string, joined: Set<string>): string {
  const roll = Math.random();
  const room_id = pick(ROOMS);
  if (roll < 0.3) {
    joined.add(room_id);
    return JSON.stringify({ type: "join-room", room_id, from });
  }
  if (roll < 0.45) {
    joined.delete(room_id);
    return JSON.stringify({ type: "leave-room", room_id });
  }
  if (roll < 0.95) {
    return JSON.stringify({
      type: "send-message",
      room_id: joined.size > 0 ? pick([...joined]) : room_id,
      from,
      message: `soak ${Math.random()}`,
    });
  }
  return "not a frame";
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

function pause(maxMs: number): Promise<void> {
  return maxMs > 0 ? delay(Math.random() * maxMs) : Promise.resolve();
}
