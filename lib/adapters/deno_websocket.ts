import type { ChatApp } from "../chat_app.ts";
import { jsonResponse } from "../http/json_response.ts";

/**
 * Upgrades a request to a WebSocket and wires the socket's events to the
 * chat. The only place that knows Deno's WebSocket API.
 *
 * Deno cannot refuse an oversized frame before reading it, so the frame
 * size limit is checked on arrival (by the dispatcher). A peer that stops
 * reading is closed once its outgoing buffer passes the limit, and one that
 * vanished is found by Deno's ping/pong idle timeout.
 *
 * @param sockets open sockets are kept here, so shutdown can close them
 */
export function acceptWebSocket(
  request: Request,
  clientIp: string,
  app: ChatApp,
  sockets: Set<WebSocket>,
): Response {
  const refusal = app.refuseUpgrade(request, clientIp);
  if (refusal) return refusal;
  const { maxBufferedBytes, idleTimeoutSeconds } = app.socketLimits;
  let upgrade;
  try {
    upgrade = Deno.upgradeWebSocket(request, {
      idleTimeout: idleTimeoutSeconds,
    });
  } catch (error) {
    return jsonResponse(
      { error: `Invalid WebSocket upgrade: ${(error as Error).message}` },
      400,
    );
  }
  const { socket, response } = upgrade;

  const connection = app.connect({
    send(text) {
      if (socket.readyState !== WebSocket.OPEN) return;
      socket.send(text);
      if (socket.bufferedAmount > maxBufferedBytes) {
        app.chat.metrics.slowClientCloses.inc();
        socket.close(1013, "client too slow: stopped reading");
        // The closing handshake cannot finish while the peer does not read,
        // so its rooms hear of the leave now, not at the close event.
        connection.close({ code: 1013, reason: "client too slow" });
      }
    },
    close(code, reason) {
      if (socket.readyState === WebSocket.OPEN) socket.close(code, reason);
    },
  }, clientIp);

  socket.addEventListener("open", () => sockets.add(socket));
  socket.addEventListener("message", (event) => connection.receive(event.data));
  socket.addEventListener("close", (event) => {
    sockets.delete(socket);
    // Deno reports 0 for a connection that ended without a close frame.
    connection.close({ code: event.code || 1006, reason: event.reason });
  });
  return response;
}
