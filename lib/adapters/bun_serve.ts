import { createChatApp } from "../chat_app.ts";
import { resolveClientIp } from "../client_ip.ts";
import { jsonResponse } from "../http/json_response.ts";
import { bunGlobal } from "./_bun.ts";
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
        const refusal = app.refuseUpgrade(request, clientIp);
        if (refusal) return refusal;
        // Bun answers the handshake; its open event connects the socket.
        if (server.upgrade(request, { data: { clientIp } })) return undefined;
        // refuseUpgrade() checked the handshake, so this is not expected.
        return jsonResponse({ error: "Invalid WebSocket upgrade" }, 400);
      }
      return app.handleHttp(request, clientIp);
    },
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
