/**
 * One thread of the WebSocket load generator. It opens its share of the
 * clients and, on command, makes them send; it counts what they receive.
 *
 * Counting is the hot path, and it stays cheap: the clients are
 * {@linkcode LightWebSocket}s, and a frame is recognised by one byte of its
 * payload, never decoded. Only one frame in `sampleEvery` is looked into,
 * for the send time its sender wrote into the message text, which gives the
 * latency from send to receipt.
 *
 * @module
 */
import { answerCalls } from "./_worker_rpc.ts";
import { LightWebSocket, textOf } from "./_light_websocket.ts";
import type { ClientSpec, WorkerSnapshot, WsCommand } from "./ws_load.ts";

/** Every server frame starts `{"type":"`; the next byte tells its type. */
const TYPE_AT = '{"type":"'.length;
const RECEIVE_MESSAGE = "r".charCodeAt(0);
const JOIN_ROOM = "j".charCodeAt(0);
const ERROR = "e".charCodeAt(0);
const MESSAGE_FIELD = '"message":"';

interface Client {
  socket: LightWebSocket;
  spec: ClientSpec;
  /** The `send-message` frame up to its message text. */
  framePrefix: string;
}

const clients: Client[] = [];
const timers: ReturnType<typeof setTimeout>[] = [];

let received = 0;
let target = 0;
let reachedTarget: (() => void) | undefined;
let sampleEvery = 64;
let untilSample = sampleEvery;
let latencies: number[] = [];
let errors = 0;
let firstError: string | undefined;

/** Milliseconds since the epoch, to the microsecond, the same in every thread. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Counts a client's frames; `joined` is called on its first `join-room`
 * frame, its own (later joins come after it).
 */
function frameCounter(joined: () => void) {
  let joining = true;
  return (bytes: Uint8Array, start: number, end: number): void => {
    const type = bytes[start + TYPE_AT];
    if (type === RECEIVE_MESSAGE) {
      if (--untilSample === 0) {
        untilSample = sampleEvery;
        sampleLatency(textOf(bytes, start, end));
      }
      if (++received === target) reachedTarget?.();
    } else if (type === JOIN_ROOM) {
      if (joining) joined();
      joining = false;
    } else if (type === ERROR) {
      errors++;
      firstError ??= textOf(bytes, start, end);
    }
  };
}

function sampleLatency(frame: string): void {
  const start = frame.indexOf(MESSAGE_FIELD) + MESSAGE_FIELD.length;
  const sentAt = Number(frame.slice(start, frame.indexOf('"', start)));
  if (Number.isFinite(sentAt)) latencies.push(now() - sentAt);
}

async function open(url: string, spec: ClientSpec): Promise<void> {
  const joined = Promise.withResolvers<void>();
  const socket = await LightWebSocket.connect(url, {
    onText: frameCounter(joined.resolve),
  });
  clients.push({
    socket,
    spec,
    framePrefix: JSON.stringify({
      type: "send-message",
      room_id: spec.room,
      from: spec.name,
      message: "",
    }).slice(0, -2),
  });
  if (spec.room === undefined) return;
  socket.send(
    JSON.stringify({ type: "join-room", room_id: spec.room, from: spec.name }),
  );
  await joined.promise;
}

/** Opens the clients, `concurrency` at a time. */
async function openAll(
  url: string,
  specs: ClientSpec[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  async function opener(): Promise<void> {
    while (next < specs.length) {
      const spec = specs[next++]!;
      await open(spec.url ?? url, spec);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, opener));
}

/** One client's send: a chat message, or a request for frames to a sink. */
function send(client: Client, count: number): void {
  const { socket, framePrefix } = client;
  if (client.spec.room === undefined) return socket.send(String(count));
  for (let i = 0; i < count; i++) socket.send(`${framePrefix}${now()}"}`);
}

function round(messages: number, expected: number): Promise<void> {
  target += expected;
  for (const client of clients) if (client.spec.sends) send(client, messages);
  if (received >= target) return Promise.resolve();
  const { promise, resolve } = Promise.withResolvers<void>();
  reachedTarget = () => {
    reachedTarget = undefined;
    resolve();
  };
  return promise;
}

function pace(intervalMs: number): void {
  for (const client of clients) {
    if (!client.spec.sends) continue;
    // A random phase spreads the senders evenly over the interval.
    timers.push(setTimeout(() => {
      send(client, 1);
      timers.push(setInterval(() => send(client, 1), intervalMs));
    }, Math.random() * intervalMs));
  }
}

function stopPacing(): void {
  for (const timer of timers.splice(0)) clearTimeout(timer);
}

async function closeAll(): Promise<void> {
  stopPacing();
  await Promise.all(clients.map(({ socket }) => socket.close()));
}

function snapshot(): WorkerSnapshot {
  const taken = { received, at: now(), latencies, errors, firstError };
  latencies = [];
  return taken;
}

answerCalls<WsCommand, WorkerSnapshot | void>((command) => {
  switch (command.kind) {
    case "connect":
      return openAll(command.url, command.clients, command.concurrency);
    case "reset":
      received = target = 0;
      sampleEvery = untilSample = command.sampleEvery;
      latencies = [];
      return;
    case "round":
      return round(command.messages, command.expected);
    case "pace":
      return pace(command.intervalMs);
    case "stop-pacing":
      return stopPacing();
    case "snapshot":
      return snapshot();
    case "close":
      return closeAll();
  }
});
