import type { ChatApp } from "../chat_app.ts";
import type { CloseInfo, Connection } from "../connection.ts";
import { FAR_TOO_LARGE_REASON } from "../dispatcher.ts";
import type { BunWebSocketHandler, ServerWebSocket } from "./_bun.ts";
import { HARD_LIMIT_FACTOR } from "../outbox.ts";
import { IDLE_TIMEOUT_REASON, KeepAlive } from "./keep_alive.ts";
import { OpenSockets } from "./open_sockets.ts";

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
 * Room broadcasts are sent socket by socket, not with Bun's native
 * publish/subscribe: a joiner must get the frames sent while its history
 * loads after that history (lib/session.ts holds them), a slow client must
 * be found on the send that overfills its buffer, and `server.publish()`
 * reports neither which socket overflowed nor lets one member wait.
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
    // (which the core then counts as slow) only past the core's own rule.
    backpressureLimit: 2 * maxBufferedBytes * HARD_LIMIT_FACTOR,
    closeOnBackpressureLimit: false,
    idleTimeout: 0,
    sendPings: false,
    open(ws) {
      sockets.add(ws);
      keepAlive.add(ws);
      const isOpen = () => ws.readyState === 1;
      ws.data.connection = app.connect({
        // 0: Bun dropped it, having more than backpressureLimit waiting.
        send: (text) => !isOpen() || ws.send(text) !== 0,
        bufferedAmount: () => ws.getBufferedAmount(),
        close: (code, reason) => void (isOpen() && ws.close(code, reason)),
      }, ws.data.clientIp);
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
