import type { Refusal } from "../admission.ts";
import type { ChatApp } from "../chat_app.ts";
import { HeaderTimeout } from "../header_timeout.ts";
import { type HttpConn, serveHttp } from "./_deno_http.ts";
import { answerUpgrade } from "./deno_websocket.ts";
import type { OpenSockets } from "./open_sockets.ts";

/** How long to wait before accepting again after accepting failed. */
const ACCEPT_RETRY_MS = 100;
/** Most refused connections being answered at once; the rest get no answer. */
const MAX_REFUSALS_ANSWERING = 16;
/** Longest a refused connection may take to send its request. */
const REFUSAL_READ_MS = 1000;

/**
 * The Deno server's connections, from accept to close. It accepts them
 * itself, so that it can refuse one before it costs anything: each is
 * admitted by the app (the server's connection cap, its address's limit
 * and connect rate) or answered `503` and closed at once. An admitted one
 * must send a complete request head within the header timeout, from its
 * opening and after each answer, or it is closed. An error while accepting
 * (no file descriptor left, say) is logged and waited out, never fatal.
 */
export class DenoConnections {
  readonly #listener: Deno.TcpListener;
  readonly #app: ChatApp;
  readonly #sockets: OpenSockets<WebSocket>;
  readonly #headerTimeout: HeaderTimeout<HttpConn>;
  /** Connections serving HTTP (not those handed to a WebSocket). */
  readonly #open = new Set<HttpConn>();
  /** What is still running for each connection, for the shutdown to wait on. */
  readonly #tasks = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  #refusing = 0;
  #stopped = false;

  /** Starts accepting connections from `listener`. */
  constructor(
    listener: Deno.TcpListener,
    app: ChatApp,
    sockets: OpenSockets<WebSocket>,
  ) {
    this.#listener = listener;
    this.#app = app;
    this.#sockets = sockets;
    this.#headerTimeout = new HeaderTimeout({
      timeoutSeconds: app.socketLimits.headerTimeoutSeconds,
      onTimeout: (httpConn) => httpConn.close(),
    });
    this.#accepting = this.#accept();
  }

  /**
   * Stops accepting, closes every connection still serving HTTP (those of
   * WebSockets are closed with their sockets), and resolves once each has
   * ended.
   */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#listener.close();
    await this.#accepting;
    this.#headerTimeout.stop();
    for (const httpConn of this.#open) httpConn.close();
    await Promise.all(this.#tasks);
  }

  async #accept(): Promise<void> {
    let failing = false;
    while (!this.#stopped) {
      let conn;
      try {
        conn = await this.#listener.accept();
        failing = false;
      } catch (error) {
        if (this.#stopped) return;
        if (!failing) this.#app.logger.warn("server.accept_failed", { error });
        failing = true;
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      this.#take(conn);
    }
  }

  /** Admits an accepted connection and serves it, or refuses it. */
  #take(conn: Deno.TcpConn): void {
    const clientIp = conn.remoteAddr.hostname;
    const admitted = this.#app.admit(clientIp);
    if ("refused" in admitted) {
      this.#refuse(conn, admitted.refused);
      return;
    }
    this.#track(this.#serve(conn, clientIp, admitted.leave));
  }

  /**
   * Answers a connection that was not admitted, and closes it. A flood of
   * them must not hold a descriptor each: past a few answers in progress,
   * the rest are closed without one.
   */
  #refuse(conn: Deno.TcpConn, refusal: Refusal): void {
    if (this.#refusing >= MAX_REFUSALS_ANSWERING) {
      conn.close();
      return;
    }
    this.#refusing++;
    this.#track(
      answerRefusal(conn, refusal).finally(() => this.#refusing--),
    );
  }

  /** Serves requests on a connection until it ends or becomes a WebSocket. */
  async #serve(
    conn: Deno.TcpConn,
    clientIp: string,
    leave: () => void,
  ): Promise<void> {
    let httpConn;
    try {
      // Small answers and frames go out at once, as on Deno.serve.
      conn.setNoDelay(true);
      httpConn = serveHttp(conn);
    } catch {
      // The peer left as soon as it was accepted.
      try {
        conn.close();
      } catch {
        // Closed already.
      }
      leave();
      return;
    }
    this.#open.add(httpConn);
    this.#headerTimeout.wait(httpConn);
    let upgraded = false;
    try {
      for (;;) {
        const event = await httpConn.nextRequest();
        if (!event) break;
        this.#headerTimeout.stopWaiting(httpConn);
        const { request } = event;
        if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
          upgraded = await answerUpgrade(
            event,
            clientIp,
            this.#app,
            this.#sockets,
            leave,
          );
          if (upgraded) break;
        } else {
          const response = await this.#app.handleHttp(request, clientIp);
          await event.respondWith(uncompressed(response));
        }
        this.#headerTimeout.wait(httpConn);
      }
    } catch {
      // A broken connection, or one closed by the header timeout or the
      // shutdown while it waited: it is over either way.
    } finally {
      this.#headerTimeout.stopWaiting(httpConn);
      this.#open.delete(httpConn);
      if (!upgraded) {
        httpConn.close();
        leave();
      }
    }
  }

  #track(task: Promise<void>): void {
    const tracked: Promise<void> = task
      .catch((error) => this.#app.logger.error("connection.failed", { error }))
      .finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }
}

/**
 * Keeps `Deno.serveHttp` from compressing an answer. It compresses every
 * compressible answer its client accepts so (brotli at quality 6, for a
 * 100-byte JSON answer too), which cost five times the CPU time of the
 * request itself; `Deno.serve` and `Bun.serve` send these answers as they
 * are. An answer that sets its own `Cache-Control` is left alone.
 */
function uncompressed(response: Response): Response {
  if (!response.headers.has("cache-control")) {
    response.headers.set("cache-control", "no-transform");
  }
  return response;
}

/**
 * Answers a refused connection with its refusal, and closes it. The
 * request is read first: a socket closed with bytes unread resets the
 * connection, and a client still sending its request would then see the
 * reset instead of the answer.
 */
async function answerRefusal(
  conn: Deno.TcpConn,
  refusal: Refusal,
): Promise<void> {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    conn.close();
  };
  const timer = setTimeout(close, REFUSAL_READ_MS);
  try {
    await conn.read(new Uint8Array(4096));
    await conn.write(httpAnswer(refusal));
  } catch {
    // The peer is gone, or took too long.
  } finally {
    clearTimeout(timer);
    close();
  }
}

/** A refusal as an HTTP response that closes the connection. */
function httpAnswer(refusal: Refusal): Uint8Array {
  const body = new TextEncoder().encode(
    JSON.stringify({ error: refusal.error }),
  );
  const head = new TextEncoder().encode(
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? ""}\r\n` +
      "content-type: application/json\r\n" +
      `content-length: ${body.length}\r\n` +
      "connection: close\r\n\r\n",
  );
  const answer = new Uint8Array(head.length + body.length);
  answer.set(head);
  answer.set(body, head.length);
  return answer;
}

const STATUS_TEXT: Record<number, string> = {
  403: "Forbidden",
  503: "Service Unavailable",
};
