import type { ChatApp } from "../chat_app.ts";
import { jsonResponse } from "../http/json_response.ts";
import type { OpenSockets } from "./open_sockets.ts";

/**
 * Upgrades a request to a WebSocket and wires the socket's events to the
 * chat. The only place that knows Deno's WebSocket API.
 *
 * Deno cannot refuse an oversized frame before reading it, so the frame
 * size limit is checked on arrival (by the dispatcher). A peer that
 * vanished is found by Deno's idle timeout: a ping after half of it without
 * a frame from the peer, a close (1001) at its end.
 *
 * @param sockets open sockets are kept here, so shutdown can close them
 */
export function acceptWebSocket(
  request: Request,
  clientIp: string,
  app: ChatApp,
  sockets: OpenSockets<WebSocket>,
): Response {
  const refusal = app.refuseUpgrade(request, clientIp);
  if (refusal) return refusal;
  let upgrade;
  try {
    upgrade = Deno.upgradeWebSocket(request, {
      idleTimeout: app.socketLimits.idleTimeoutSeconds,
    });
  } catch {
    // refuseUpgrade() checked the handshake, so this is not expected.
    return jsonResponse({ error: "Invalid WebSocket upgrade" }, 400);
  }
  const { socket, response } = upgrade;

  const isOpen = () => socket.readyState === WebSocket.OPEN;
  const connection = app.connect({
    send(text) {
      if (isOpen()) socket.send(text);
      return true;
    },
    bufferedAmount: () => socket.bufferedAmount,
    // Closed in a task of its own: Deno 2.9 drops the connection without
    // its close frame (the client sees 1006) when close() is called while
    // it is still handing over frames that arrived together.
    close: (code, reason) =>
      void setTimeout(() => isOpen() && socket.close(code, reason), 0),
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
