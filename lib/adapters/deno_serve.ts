import { createChatApp } from "../chat_app.ts";
import {
  type ChatServer,
  type ServeChatOptions,
  shutDownChat,
} from "./chat_server.ts";
import { DenoConnections } from "./deno_connections.ts";
import { OpenSockets } from "./open_sockets.ts";

/**
 * Serves the chat on Deno, on one port: requests that ask for a WebSocket
 * upgrade (on any path) become WebSockets, everything else goes to the
 * REST routes. The connections are accepted and served by
 * {@linkcode DenoConnections}, which keeps their number under the
 * process's open-file limit and closes those that send no request.
 */
export function serveChatOnDeno(options: ServeChatOptions = {}): ChatServer {
  const app = createChatApp(options);
  const listener = Deno.listen({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 3000,
  });
  const sockets = new OpenSockets<WebSocket>();
  const connections = new DenoConnections(listener, app, sockets);
  const { hostname, port } = listener.addr;
  options.onListen?.({ hostname, port });

  let stopping: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    return stopping ??= shutDownChat(app, {
      closeSockets: (code, reason) => sockets.closeAll(code, reason),
      stopListening: () => connections.close(),
    });
  }
  return {
    app,
    addr: { hostname, port },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
