import type { Refusal } from "../admission.ts";
import type { ChatApp } from "../chat_app.ts";
import { resolveClientIp } from "../client_ip.ts";
import { HeaderTimeout } from "../header_timeout.ts";
import { jsonResponse } from "../http/json_response.ts";
import { type HttpConn, type RequestEvent, serveHttp } from "./_deno_http.ts";
import { answerRefusal } from "./_deno_refusal.ts";
import { answerUpgrade } from "./deno_websocket.ts";
import type { OpenSockets } from "./open_sockets.ts";

/** How long to wait before accepting again after accepting failed. */
const ACCEPT_RETRY_MS = 100;
/** Most refused connections being answered at once; the rest get no answer. */
const MAX_REFUSALS_ANSWERING = 16;

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
    const { trustedProxies } = this.#app;
    const peerIp = resolveClientIp(
      conn.remoteAddr.hostname,
      null,
      trustedProxies,
    );
    // A trusted proxy carries many clients: it is counted in total only,
    // and each request's client is read from its X-Forwarded-For.
    const viaProxy = trustedProxies.has(peerIp);
    const admitted = this.#app.admit(viaProxy ? undefined : peerIp);
    if ("refused" in admitted) {
      this.#refuse(conn, admitted.refused);
      return;
    }
    this.#track(this.#serve(conn, peerIp, viaProxy, admitted.leave));
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
    peerIp: string,
    viaProxy: boolean,
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
        const clientIp = resolveClientIp(
          peerIp,
          request.headers.get("x-forwarded-for"),
          this.#app.trustedProxies,
        );
        if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
          upgraded = await this.#upgrade(event, clientIp, viaProxy, leave);
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

  /**
   * Answers a WebSocket upgrade. A connection from a trusted proxy was
   * counted in total only: its client is admitted by address here, where
   * the server first sees who it is.
   *
   * @returns whether the connection now belongs to a WebSocket
   */
  async #upgrade(
    event: RequestEvent,
    clientIp: string,
    viaProxy: boolean,
    leave: () => void,
  ): Promise<boolean> {
    if (!viaProxy) {
      return answerUpgrade(event, clientIp, this.#app, this.#sockets, leave);
    }
    const client = this.#app.admitAddress(clientIp);
    if ("refused" in client) {
      const { error, status } = client.refused;
      await event.respondWith(jsonResponse({ error }, status));
      return false;
    }
    const upgraded = await answerUpgrade(
      event,
      clientIp,
      this.#app,
      this.#sockets,
      () => {
        client.leave();
        leave();
      },
    );
    if (!upgraded) client.leave();
    return upgraded;
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
