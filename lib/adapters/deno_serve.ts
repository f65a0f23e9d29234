import { createChatApp } from "../chat_app.ts";
import { resolveClientIp } from "../client_ip.ts";
import {
  type ChatServer,
  type ServeChatOptions,
  shutDownChat,
} from "./chat_server.ts";
import { acceptWebSocket } from "./deno_websocket.ts";
import { OpenSockets } from "./open_sockets.ts";

/**
 * Serves the chat on Deno, on one port with one `Deno.serve` handler:
 * requests that ask for a WebSocket upgrade (on any path) become
 * WebSockets, everything else goes to the REST routes.
 */
export function serveChatOnDeno(options: ServeChatOptions = {}): ChatServer {
  const app = createChatApp(options);
  const sockets = new OpenSockets<WebSocket>();
  const server = Deno.serve({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 3000,
    onListen: (addr) => options.onListen?.(addr as Deno.NetAddr),
  }, (request, info) => {
    const clientIp = resolveClientIp(
      (info.remoteAddr as Deno.NetAddr).hostname,
      request.headers.get("x-forwarded-for"),
      app.trustedProxies,
    );
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return acceptWebSocket(request, clientIp, app, sockets);
    }
    return app.handleHttp(request, clientIp);
  });

  let stopping: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    return stopping ??= shutDownChat(app, {
      // Ours must be through before server.shutdown(), which would close
      // the sockets too, but with a reason of its own.
      closeSockets: (code, reason) => sockets.closeAll(code, reason),
      // Deno 2.9's server.shutdown() breaks the bodies of in-flight
      // requests (denoland/deno#36809); shutDownChat() lets them finish
      // first.
      stopListening: () => server.shutdown(),
    });
  }
  const { hostname, port } = server.addr;
  return {
    app,
    addr: { hostname, port },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
