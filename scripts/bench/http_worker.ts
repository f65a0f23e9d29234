/**
 * One thread of the REST load generator: `concurrency` loops, each with its
 * own keep-alive connection, alternating `POST /send` and `GET /rooms` as
 * fast as the answers come.
 *
 * @module
 */
import { answerCalls } from "./_worker_rpc.ts";
import type { HttpCommand } from "./http_load.ts";
import type { WorkerSnapshot } from "./ws_load.ts";

let running = false;
let loops: Promise<void>[] = [];
let client: Deno.HttpClient | undefined;
let completed = 0;
let latencies: number[] = [];
let errors = 0;
let firstError: string | undefined;

function fail(message: string): void {
  errors++;
  firstError ??= message;
}

async function loop(
  client: Deno.HttpClient,
  url: string,
  room: string,
  name: string,
  postFirst: boolean,
): Promise<void> {
  const send = {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ room_id: room, from: name, message: "hello" }),
    client,
  };
  let post = postFirst;
  while (running) {
    const start = performance.now();
    try {
      const response = post
        ? await fetch(`${url}/send`, send)
        : await fetch(`${url}/rooms`, { client });
      await response.arrayBuffer();
      if (!response.ok) {
        fail(`${post ? "POST /send" : "GET /rooms"}: ${response.status}`);
      }
    } catch (error) {
      fail((error as Error).message);
      return;
    }
    latencies.push(performance.now() - start);
    completed++;
    post = !post;
  }
}

answerCalls<HttpCommand, WorkerSnapshot | void>(async (command) => {
  switch (command.kind) {
    case "start": {
      running = true;
      client = Deno.createHttpClient({});
      loops = Array.from({ length: command.concurrency }, (_, i) =>
        loop(
          client!,
          command.url,
          `room-${i % command.rooms}`,
          `client-${command.firstClient + i}`,
          i % 2 === 0,
        ));
      return;
    }
    case "reset":
      completed = 0;
      latencies = [];
      return;
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
    case "stop":
      running = false;
      await Promise.all(loops);
      client?.close();
      return;
  }
});
