/**
 * One thread of the REST load generator: `concurrency` loops, each waiting
 * for its answer before the next request, alternating `POST /send` and
 * `GET /rooms` over keep-alive connections.
 *
 * @module
 */
import { answerCalls } from "./_worker_rpc.ts";
import type { HttpCommand } from "./http_load.ts";
import type { WorkerSnapshot } from "./ws_load.ts";

let settings: Extract<HttpCommand, { kind: "open" }>;
let client: Deno.HttpClient | undefined;
let running = false;
let loops: Promise<void>[] = [];
let completed = 0;
let latencies: number[] = [];
let errors = 0;
let firstError: string | undefined;

async function loop(client: Deno.HttpClient, index: number): Promise<void> {
  const { url, rooms, firstClient } = settings;
  const send = {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      room_id: `room-${index % rooms}`,
      from: `client-${firstClient + index}`,
      message: "hello",
    }),
    client,
  };
  let post = index % 2 === 0;
  while (running) {
    const start = performance.now();
    try {
      const response = post
        ? await fetch(`${url}/send`, send)
        : await fetch(`${url}/rooms`, { client });
      await response.arrayBuffer();
      if (!response.ok) {
        errors++;
        firstError ??= `${
          post ? "POST /send" : "GET /rooms"
        }: ${response.status}`;
      }
    } catch (error) {
      errors++;
      firstError ??= (error as Error).message;
      return;
    }
    latencies.push(performance.now() - start);
    completed++;
    post = !post;
  }
}

async function stop(): Promise<void> {
  running = false;
  await Promise.all(loops);
  loops = [];
}

answerCalls<HttpCommand, WorkerSnapshot | void>(async (command) => {
  switch (command.kind) {
    case "open":
      settings = command;
      client = Deno.createHttpClient({});
      return;
    case "start":
      running = true;
      loops = Array.from(
        { length: settings.loops },
        (_, i) => loop(client!, i),
      );
      return;
    case "stop":
      return await stop();
    case "snapshot": {
      const taken = {
        received: completed,
        at: performance.timeOrigin + performance.now(),
        latencies,
        errors,
        firstError,
      };
      latencies = [];
      return taken;
    }
    case "close":
      await stop();
      client?.close();
      return;
  }
});
