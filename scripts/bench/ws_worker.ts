/**
 * One thread of the WebSocket load generator. It opens its share of the
 * clients and, on command, makes them send; it counts what they receive.
 *
 * Counting is the hot path, and it stays cheap: a frame is recognised by
 * its first bytes, never parsed. Only one frame in `sampleEvery` is looked
 * into, for the send time its sender wrote into the message text, which
 * gives the latency from send to receipt.
 *
 * @module
 */
import { answerCalls } from "./_worker_rpc.ts";
import type { ClientSpec, WorkerSnapshot, WsCommand } from "./ws_load.ts";

const RECEIVE_MESSAGE = '{"type":"receive-message"';
const JOIN_ROOM = '{"type":"join-room"';
const ERROR = '{"type":"error"';
const MESSAGE_FIELD = '"message":"';

interface Client {
  socket: WebSocket;
  spec: ClientSpec;
  /** The `send-message` frame up to its message text. */
  framePrefix: string;
}

const clients: Client[] = [];
/** Clients waiting for the confirmation of their `join-room`. */
const joining = new Map<WebSocket, () => void>();
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

function onMessage(this: WebSocket, event: MessageEvent<string>): void {
  const data = event.data;
  if (data.startsWith(RECEIVE_MESSAGE)) {
    if (--untilSample === 0) {
      untilSample = sampleEvery;
      sampleLatency(data);
    }
    if (++received === target) reachedTarget?.();
  } else if (data.startsWith(JOIN_ROOM)) {
    // A joiner's first join-room frame is its own: later joins come after.
    joining.get(this)?.();
    joining.delete(this);
  } else if (data.startsWith(ERROR)) {
    errors++;
    firstError ??= data;
  }
}

function sampleLatency(frame: string): void {
  const start = frame.indexOf(MESSAGE_FIELD) + MESSAGE_FIELD.length;
  const sentAt = Number(frame.slice(start, frame.indexOf('"', start)));
  if (Number.isFinite(sentAt)) latencies.push(now() - sentAt);
}

async function open(url: string, spec: ClientSpec): Promise<void> {
  const socket = new WebSocket(url);
  socket.onmessage = onMessage;
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
  const opened = Promise.withResolvers<void>();
  socket.onopen = () => opened.resolve();
  socket.onerror = () => opened.reject(new Error(`cannot connect to ${url}`));
  await opened.promise;
  if (spec.room === undefined) return;
  const joined = Promise.withResolvers<void>();
  joining.set(socket, joined.resolve);
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
  await Promise.all(clients.map(({ socket }) => {
    if (socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => socket.onclose = resolve);
    socket.close();
    return closed;
  }));
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
