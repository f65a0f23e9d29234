/**
 * Shared test helpers: a real chat server on an ephemeral port, WebSocket
 * clients whose every wait is bounded, and JSON requests. Everything is torn
 * down by one `await using`, so no test leaks a socket.
 *
 * @module
 */
import type { ChatServer } from "../lib/adapters/chat_server.ts";
import { serveChat } from "../lib/adapters/serve_chat.ts";
import type { ChatAppOptions } from "../lib/chat_app.ts";
import { Logger } from "../lib/logger.ts";
import { within as withinMs } from "../scripts/_timing.ts";
import { SqliteStore } from "../lib/store/sqlite.ts";

/** How long any single wait in a test may take. */
export const WAIT_MS = 3000;

/** A frame as the server sent it, parsed. */
// deno-lint-ignore no-explicit-any
export type Frame = Record<string, any>;

/** Rejects after `ms` (default {@linkcode WAIT_MS}) unless `promise` settles. */
export function within<T>(
  promise: Promise<T>,
  what: string,
  ms = WAIT_MS,
): Promise<T> {
  return withinMs(promise, what, ms);
}

/**
 * Resolves once `condition` holds, checking it every 10 ms; rejects after
 * `ms` (default {@linkcode WAIT_MS}).
 */
export function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = WAIT_MS,
): Promise<void> {
  return within(
    (async () => {
      while (!await condition()) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })(),
    what,
    ms,
  );
}

/** Invalid JSON whose error names a spot no other test input reaches. */
const PROBE = `${"\n".repeat(7)}¿probe?`;
const PROBE_ERROR =
  'frame is not valid JSON: unexpected "¿" at line 8, column 1: expected a JSON value';
/** Bounds the wait for a probe's answer (each frame's wait is bounded too). */
const MAX_FRAMES_BEFORE_PROBE = 10_000;

/** A WebSocket client that queues every frame it receives. */
export class TestClient {
  readonly socket: WebSocket;
  #frames: Frame[] = [];
  #waiting: ((frame: Frame) => void) | undefined;
  readonly closed: Promise<CloseEvent>;

  constructor(socket: WebSocket) {
    this.socket = socket;
    const closed = Promise.withResolvers<CloseEvent>();
    this.closed = closed.promise;
    socket.addEventListener("close", (event) => closed.resolve(event));
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (this.#waiting) {
        const resolve = this.#waiting;
        this.#waiting = undefined;
        resolve(frame);
      } else this.#frames.push(frame);
    });
  }

  /** Sends a frame: objects as JSON, strings and bytes as they are. */
  send(frame: object | string | Uint8Array): void {
    this.socket.send(
      typeof frame === "string" || frame instanceof Uint8Array
        ? frame
        : JSON.stringify(frame),
    );
  }

  /** The next frame received, waiting for it if needed. */
  next(ms = WAIT_MS): Promise<Frame> {
    const queued = this.#frames.shift();
    if (queued) return Promise.resolve(queued);
    const { promise, resolve } = Promise.withResolvers<Frame>();
    this.#waiting = resolve;
    return within(promise, "a frame", ms).finally(() => {
      this.#waiting = undefined;
    });
  }

  /** Every frame received and not yet taken, without waiting. */
  received(): Frame[] {
    return this.#frames.splice(0);
  }

  /** The next `count` frames. */
  async take(count: number): Promise<Frame[]> {
    const frames = [];
    for (let i = 0; i < count; i++) frames.push(await this.next());
    return frames;
  }

  /** Joins a room and returns the frames up to its own `join-room`. */
  async join(room_id: string, from: string): Promise<Frame[]> {
    this.send({ type: "join-room", room_id, from });
    const frames = [];
    for (;;) {
      const frame = await this.next();
      frames.push(frame);
      if (
        frame.type === "join-room" && frame.room_id === room_id &&
        frame.from === from
      ) return frames;
      if (frame.type === "error") throw new Error(frame.error);
    }
  }

  /**
   * Every frame the server sent before it read a probe (an invalid frame)
   * sent now: what is queued or on its way, without waiting for a timeout.
   */
  async framesBeforeProbe(): Promise<Frame[]> {
    this.send(PROBE);
    const frames = [];
    for (let count = 0; count < MAX_FRAMES_BEFORE_PROBE; count++) {
      const frame = await this.next();
      if (frame.type === "error" && frame.error === PROBE_ERROR) return frames;
      frames.push(frame);
    }
    throw new Error(`no answer to the probe in ${frames.length} frames`);
  }

  /** Asserts that no frame is queued or on its way. */
  async expectNoFrames(): Promise<void> {
    const frames = await this.framesBeforeProbe();
    if (frames.length > 0) {
      throw new Error(`unexpected frames: ${JSON.stringify(frames)}`);
    }
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (this.socket.readyState !== WebSocket.CLOSED) this.socket.close();
    await within(this.closed, "the socket to close");
  }
}

/** Opens a WebSocket client and waits until it is open. */
export async function openClient(url: string): Promise<TestClient> {
  const socket = new WebSocket(url);
  const client = new TestClient(socket);
  const opened = Promise.withResolvers<void>();
  socket.addEventListener("open", () => opened.resolve());
  socket.addEventListener(
    "error",
    () => opened.reject(new Error(`could not open a WebSocket to ${url}`)),
  );
  try {
    await within(opened.promise, "the WebSocket to open");
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

/** A temporary directory that `await using` removes. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "chat_test_" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** A chat server for one test, with helpers to reach it. */
export interface TestServer extends AsyncDisposable {
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Opens a client, which the server's disposal closes. */
  connect(path?: string): Promise<TestClient>;
  /** POSTs JSON (or a raw string) and reads the JSON answer. */
  post(
    path: string,
    body: unknown,
    headers?: HeadersInit,
  ): Promise<JsonReply>;
  /** GETs a path and reads the JSON answer. */
  get(path: string): Promise<JsonReply>;
  /** Reads `GET /metrics`: the value of each series, by its name and labels. */
  metrics(): Promise<Map<string, number>>;
  /**
   * Shuts the server down as SIGTERM does (a process: by sending it), and
   * resolves once it has stopped (a process: exited with code 0).
   */
  shutdown(): Promise<void>;
}

/** A server in the test's own process, whose insides a test can reach. */
export interface InProcessServer extends TestServer {
  readonly server: ChatServer;
}

/** A response with its body already read. */
export interface JsonReply {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** Reads a response's JSON body (or `null` for none). */
export async function readReply(response: Response): Promise<JsonReply> {
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? null : JSON.parse(text),
  };
}

/** Reads `GET /metrics`: the value of each series, by its name and labels. */
export async function readMetrics(
  httpUrl: string,
): Promise<Map<string, number>> {
  const response = await fetch(`${httpUrl}/metrics`);
  const series = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/**
 * Waits for `client` to be closed by the server with `code` and `reason`.
 *
 * A client that is still sending when the server's close frame comes may
 * never read it on Deno: Deno ends the TCP connection when a frame arrives
 * after its close frame, and the reset can discard what the client had not
 * read yet, which it then sees as an abnormal close (0 or 1006). Then the
 * server's own count of the code it sent decides.
 */
export async function closedBy(
  server: TestServer,
  client: TestClient,
  code: number,
  reason: string,
): Promise<void> {
  const closed = await within(client.closed, `the close with ${code}`);
  if (closed.code === 0 || closed.code === 1006) {
    await eventually(
      async () =>
        (await server.metrics()).get(
          `chat_connections_closed_total{code="${code}"}`,
        ) === 1,
      `the server to count its close with ${code}`,
    );
    return;
  }
  if (closed.code !== code || closed.reason !== reason) {
    throw new Error(
      `closed with ${closed.code} "${closed.reason}", not ${code} "${reason}"`,
    );
  }
}

/**
 * The helpers of a server at `wsUrl`, wherever it runs.
 *
 * @param shutdown stops the server, once
 * @param cleanup runs after the server has shut down
 */
export function testServer(
  wsUrl: string,
  shutdown: () => Promise<void>,
  cleanup?: () => PromiseLike<void>,
): TestServer {
  const httpUrl = wsUrl.replace("ws://", "http://");
  const clients = new Set<TestClient>();
  let stopped: Promise<void> | undefined;
  return {
    httpUrl,
    wsUrl,
    async connect(path = "/") {
      const client = await openClient(wsUrl + path);
      clients.add(client);
      return client;
    },
    async post(path, body, headers = { "content-type": "application/json" }) {
      const response = await fetch(httpUrl + path, {
        method: "POST",
        headers,
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return readReply(response);
    },
    async get(path) {
      return readReply(await fetch(httpUrl + path));
    },
    metrics: () => readMetrics(httpUrl),
    shutdown: () => stopped ??= shutdown(),
    async [Symbol.asyncDispose]() {
      await Promise.all([...clients].map((client) => client.close()));
      await (stopped ??= shutdown());
      await cleanup?.();
    },
  };
}

/**
 * Starts a chat server in this process, on 127.0.0.1 and an ephemeral port.
 *
 * @param cleanup runs after the server (and so its store) has shut down
 */
export async function startServer(
  options: ChatAppOptions = {},
  cleanup?: () => PromiseLike<void>,
): Promise<InProcessServer> {
  const listening = Promise.withResolvers<void>();
  const server = serveChat({
    logger: new Logger({ level: "silent" }),
    ...options,
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => listening.resolve(),
  });
  await within(listening.promise, "the server to listen");
  const wsUrl = `ws://127.0.0.1:${server.addr.port}`;
  return {
    ...testServer(wsUrl, () => server.shutdown(), cleanup),
    server,
  };
}

/**
 * Starts a server on a new SQLite file in a temporary directory, which is
 * removed after the server stops. `options.store` is ignored.
 */
export async function startSqliteServer(
  options: ChatAppOptions = {},
): Promise<InProcessServer> {
  const dir = await tempDir();
  const store = new SqliteStore({ path: `${dir.path}/chat.db` });
  return startServer({ ...options, store }, dir[Symbol.asyncDispose]);
}
