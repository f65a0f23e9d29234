import type { ChatApp } from "../chat_app.ts";
import type { CloseInfo, Connection } from "../connection.ts";
import type { Peer } from "../peer.ts";
import { jsonResponse } from "../http/json_response.ts";
import type { RequestEvent } from "./_deno_http.ts";
import { holdIdleTimeout } from "./_deno_idle_timeout.ts";
import type { OpenSockets } from "./open_sockets.ts";

/**
 * Answers a WebSocket upgrade request: refuses it with an HTTP answer, or
 * upgrades it and wires the socket's events to the chat. The only place
 * that knows Deno's WebSocket API.
 *
 * Deno cannot refuse an oversized frame before reading it, so the frame
 * size limit is checked on arrival (by the dispatcher). A peer that
 * vanished is found by Deno's idle timeout: a ping after half of it without
 * a frame from the peer, a close (1001) at its end. It starts once the
 * handshake is done (see {@linkcode holdIdleTimeout}, which saves idle
 * sockets memory).
 *
 * @param sockets open sockets are kept here, so shutdown can close them
 * @param onClosed called once the WebSocket has closed (or its handshake
 *   could not be sent), not when the upgrade is refused
 * @returns whether the connection now belongs to a WebSocket: `false`
 *   after a refusal, when it can go on serving requests
 */
export async function answerUpgrade(
  event: RequestEvent,
  clientIp: string,
  app: ChatApp,
  sockets: OpenSockets<WebSocket>,
  onClosed: () => void,
): Promise<boolean> {
  const { request } = event;
  const refusal = app.refuseUpgrade(request, clientIp);
  if (refusal) {
    await event.respondWith(refusal);
    return false;
  }
  let upgrade;
  try {
    upgrade = Deno.upgradeWebSocket(request, {
      idleTimeout: app.socketLimits.idleTimeoutSeconds,
    });
  } catch {
    // refuseUpgrade() checked the handshake, so this is not expected.
    await event.respondWith(
      jsonResponse({ error: "Invalid WebSocket upgrade" }, 400),
    );
    return false;
  }
  const { socket, response } = upgrade;
  const peer = new DenoPeer(socket, sockets, onClosed);
  peer.connect(app, clientIp);
  const startIdleTimeout = holdIdleTimeout(socket);
  try {
    await event.respondWith(response);
  } catch {
    // The peer left during the handshake: the socket never opens.
    peer.ended({ code: 1006, reason: "" });
    return true;
  }
  startIdleTimeout?.();
  return true;
}

/**
 * One of Deno's WebSockets as the chat drives it: the peer its connection
 * sends through, and the listener of its events. One object per socket,
 * rather than a closure per event and per call, since thousands may be
 * open and idle.
 */
class DenoPeer implements Peer, EventListenerObject {
  readonly #socket: WebSocket;
  readonly #sockets: OpenSockets<WebSocket>;
  readonly #onClosed: () => void;
  #connection: Connection | undefined;

  constructor(
    socket: WebSocket,
    sockets: OpenSockets<WebSocket>,
    onClosed: () => void,
  ) {
    this.#socket = socket;
    this.#sockets = sockets;
    this.#onClosed = onClosed;
  }

  /** Hands the socket to a new connection of the chat, and listens. */
  connect(app: ChatApp, clientIp: string): void {
    this.#connection = app.connect(this, clientIp);
    for (const type of ["open", "message", "close"]) {
      this.#socket.addEventListener(type, this);
    }
  }

  send(text: string): boolean {
    try {
      this.#socket.send(text);
    } catch {
      // Closing: Deno throws rather than drop the frame. (Asking first
      // would cost a call for every frame of every broadcast.)
    }
    return true;
  }

  bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  close(code: number, reason: string): void {
    // Closed in a task of its own: Deno 2.9 drops the connection without
    // its close frame (the client sees 1006) when close() is called while
    // it is still handing over frames that arrived together.
    setTimeout(() => {
      if (this.#socket.readyState === WebSocket.OPEN) {
        this.#socket.close(code, reason);
      }
    }, 0);
  }

  /** The socket's events. */
  handleEvent(event: Event): void {
    if (event.type === "message") {
      void this.#connection?.receive((event as MessageEvent).data);
    } else if (event.type === "open") this.#sockets.add(this.#socket);
    else if (event.type === "close") {
      this.#sockets.delete(this.#socket);
      // Deno reports 0 for a connection that ended without a close frame.
      const { code, reason } = event as CloseEvent;
      this.ended({ code: code || 1006, reason });
    }
  }

  /** The socket has ended, or will never open. */
  ended(info: CloseInfo): void {
    this.#connection?.close(info);
    this.#onClosed();
  }
}
