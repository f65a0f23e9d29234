import type { ChatApp } from "../chat_app.ts";
import type { CloseInfo, Connection } from "../connection.ts";
import { FAR_TOO_LARGE_REASON } from "../dispatcher.ts";
import type { BunWebSocketHandler, ServerWebSocket } from "./_bun.ts";
import { HARD_LIMIT_FACTOR } from "../outbox.ts";
import { IDLE_TIMEOUT_REASON, KeepAlive } from "./keep_alive.ts";
import { OpenSockets } from "./open_sockets.ts";
import { BunPeer } from "./bun_peer.ts";

/** What the Bun adapter keeps with each socket. */
export interface SocketData {
  /** The client's IP address, from the upgrade request. */
  clientIp: string;
  /** Counts the connection closed (see `ChatApp.admit()`). */
  leave(): void;
  /** The chat's side of the socket, from the open event on. */
  connection?: Connection;
}

type Socket = ServerWebSocket<SocketData>;

/** The chat's WebSockets on Bun: the handlers, and what shutdown needs. */
export interface BunChatSockets {
  /** The `websocket` option of `Bun.serve()`. */
  readonly handler: BunWebSocketHandler<SocketData>;
  /** Closes every open socket; resolves once each has closed. */
  closeAll(code: number, reason: string): Promise<void>;
  /** Stops the keep-alive checks. */
  stop(): void;
}

/**
 * Wires Bun's WebSocket events to the chat. The only place that knows
 * Bun's WebSocket API; on the wire it behaves as the Deno adapter does.
 *
 * Bun refuses a frame far over the size limit before reading it
 * (`maxPayloadLength`), closing with 1009 as the dispatcher does on Deno.
 * A client that stops reading is closed with 1013 by the rule both runtimes
 * share (`lib/outbox.ts`).
 * Pings and the idle timeout follow Deno's rule ({@linkcode KeepAlive}).
 *
 * Room frames reach live members through Bun's native publish/subscribe
 * (`BunFanout`, which the server gives the app); a joiner gets
 * its history and what it missed sent to it alone first (see `Rooms`).
 */
export function bunChatSockets(app: ChatApp): BunChatSockets {
  const { largestFrameBytes, maxBufferedBytes, idleTimeoutSeconds } =
    app.socketLimits;
  const sockets = new OpenSockets<Socket>();
  const keepAlive = new KeepAlive<Socket>({
    timeoutSeconds: idleTimeoutSeconds,
    onTimeout(ws) {
      ws.close(1001, IDLE_TIMEOUT_REASON);
      // The peer is gone, so no close event comes until it is terminated.
      ws.data.connection?.close({ code: 1001, reason: IDLE_TIMEOUT_REASON });
    },
  });

  const handler: BunWebSocketHandler<SocketData> = {
    maxPayloadLength: largestFrameBytes,
    // Twice what the core lets a reader hold, so that Bun drops a frame
    // only past the core's own rule: a dropped send the core counts as
    // slow; a dropped publish it cannot see (see the README).
    backpressureLimit: 2 * maxBufferedBytes * HARD_LIMIT_FACTOR,
    closeOnBackpressureLimit: false,
    idleTimeout: 0,
    sendPings: false,
    open(ws) {
      sockets.add(ws);
      keepAlive.add(ws);
      ws.data.connection = app.connect(new BunPeer(ws), ws.data.clientIp);
    },
    message(ws, message) {
      keepAlive.heard(ws);
      void ws.data.connection?.receive(message);
    },
    ping: (ws) => keepAlive.heard(ws),
    pong: (ws) => keepAlive.heard(ws),
    close(ws, code, reason) {
      sockets.delete(ws);
      keepAlive.delete(ws);
      ws.data.connection?.close(closeInfo(app, code, reason));
      ws.data.leave();
    },
  };
  return {
    handler,
    closeAll: (code, reason) => sockets.closeAll(code, reason),
    stop: () => keepAlive.stop(),
  };
}

/**
 * How a socket ended, as the Deno adapter reports it. Bun reports a frame
 * it refused for its size as 1006 (it closed the connection itself) where
 * the dispatcher on Deno closes with 1009 and counts the refusal.
 */
function closeInfo(app: ChatApp, code: number, reason: string): CloseInfo {
  if (code === 1006 && reason === FAR_TOO_LARGE_REASON) {
    app.chat.metrics.errors.inc("frame_far_too_large");
    return { code: 1009, reason };
  }
  return { code, reason };
}
