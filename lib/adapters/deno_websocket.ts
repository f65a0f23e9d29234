import type { ChatApp } from "../chat_app.ts";
import { jsonResponse } from "../http/json_response.ts";

/**
 * Upgrades a request to a WebSocket and wires the socket's events to the
 * chat. The only place that knows Deno's WebSocket API.
 *
 * @param sockets open sockets are kept here, so shutdown can close them
 */
export function acceptWebSocket(
  request: Request,
  app: ChatApp,
  sockets: Set<WebSocket>,
): Response {
  let upgrade;
  try {
    upgrade = Deno.upgradeWebSocket(request);
  } catch (error) {
    return jsonResponse(
      { error: `Invalid WebSocket upgrade: ${(error as Error).message}` },
      400,
    );
  }
  const { socket, response } = upgrade;
  const connection = app.connect({
    send(text) {
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
    },
  });
  socket.addEventListener("open", () => sockets.add(socket));
  socket.addEventListener("message", (event) => connection.receive(event.data));
  socket.addEventListener("close", () => {
    sockets.delete(socket);
    connection.close();
  });
  return response;
}
