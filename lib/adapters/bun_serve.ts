import { createChatApp } from "../chat_app.ts";
import { resolveClientIp } from "../client_ip.ts";
import { jsonResponse } from "../http/json_response.ts";
import type { ChatApp } from "../chat_app.ts";
import { bunGlobal, type BunServer } from "./_bun.ts";
import { bunChatSockets } from "./bun_websocket.ts";
import {
  type ChatServer,
  type ServeChatOptions,
  shutDownChat,
} from "./chat_server.ts";

/**
 * Serves the chat on Bun, on one port with one `Bun.serve` handler:
 * requests that ask for a WebSocket upgrade (on any path) become
 * WebSockets, everything else goes to the REST routes.
 */
export function serveChatOnBun(options: ServeChatOptions = {}): ChatServer {
  const bun = bunGlobal();
  if (!bun) throw new TypeError("serveChatOnBun() runs only on Bun");
  const app = createChatApp(options);
  const sockets = bunChatSockets(app);
  const server = bun.serve({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 3000,
    fetch(request, server) {
      const clientIp = resolveClientIp(
        server.requestIP(request)?.address ?? "unknown",
        request.headers.get("x-forwarded-for"),
        app.trustedProxies,
      );
      if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
        return upgrade(app, request, server, clientIp);
      }
      return app.handleHttp(request, clientIp);
    },
    // A connection idle between requests is closed after the header
    // timeout. (Bun closes one that has not sent a complete request head
    // after about 10 seconds of its own, whatever this says.)
    idleTimeout: Math.min(app.socketLimits.headerTimeoutSeconds, 255),
    websocket: sockets.handler,
  });
  // Bun.serve() listens before it returns.
  const addr = { hostname: server.hostname, port: server.port };
  options.onListen?.(addr);

  let stopping: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    return stopping ??= shutDownChat(app, {
      closeSockets: (code, reason) => sockets.closeAll(code, reason),
      async stopListening() {
        sockets.stop();
        await server.stop(true);
      },
    });
  }
  return { app, addr, shutdown, [Symbol.asyncDispose]: shutdown };
}

/**
 * Upgrades a request to a WebSocket, or answers why not. Bun shows no
 * connection before its first request, so a WebSocket is where a
 * connection is admitted (its address's limit and connect rate) on Bun.
 */
function upgrade(
  app: ChatApp,
  request: Request,
  server: BunServer,
  clientIp: string,
): Response | undefined {
  const admitted = app.admit(clientIp);
  if ("refused" in admitted) {
    const { error, status } = admitted.refused;
    return jsonResponse({ error }, status);
  }
  const refusal = app.refuseUpgrade(request, clientIp);
  if (refusal) {
    admitted.leave();
    return refusal;
  }
  // Bun answers the handshake; its open event connects the socket, and its
  // close event counts the connection closed.
  const data = { clientIp, leave: admitted.leave };
  if (server.upgrade(request, { data })) return undefined;
  admitted.leave();
  // refuseUpgrade() checked the handshake, so this is not expected.
  return jsonResponse({ error: "Invalid WebSocket upgrade" }, 400);
}
