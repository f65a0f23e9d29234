import type { ChatApp } from "../chat_app.ts";
import { jsonResponse } from "../http/json_response.ts";
import type { RequestEvent } from "./_deno_http.ts";
import type { OpenSockets } from "./open_sockets.ts";

/**
 * Answers a WebSocket upgrade request: refuses it with an HTTP answer, or
 * upgrades it and wires the socket's events to the chat. The only place
 * that knows Deno's WebSocket API.
 *
 * Deno cannot refuse an oversized frame before reading it, so the frame
 * size limit is checked on arrival (by the dispatcher). A peer that
 * vanished is found by Deno's idle timeout: a ping after half of it without
 * a frame from the peer, a close (1001) at its end.
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
    onClosed();
  });
  try {
    await event.respondWith(response);
  } catch {
    // The peer left during the handshake: the socket never opens.
    connection.close({ code: 1006, reason: "" });
    onClosed();
  }
  return true;
}
