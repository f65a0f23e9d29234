import {
  type ChatApp,
  type ChatAppOptions,
  createChatApp,
} from "../chat_app.ts";
import { waitAtMost } from "../_wait_at_most.ts";
import { acceptWebSocket } from "./deno_websocket.ts";

/** Options of {@linkcode serveChat}. */
export interface ServeChatOptions extends ChatAppOptions {
  /**
   * Address to listen on.
   * @default {"0.0.0.0"}
   */
  hostname?: string | undefined;
  /**
   * Port to listen on; 0 picks a free one.
   * @default {3000}
   */
  port?: number | undefined;
  /** Called once the server listens. */
  onListen?: ((addr: Deno.NetAddr) => void) | undefined;
}

/** A running chat server. */
export interface ChatServer extends AsyncDisposable {
  /** The app it serves, for tests and metrics. */
  readonly app: ChatApp;
  /** The address it listens on. */
  readonly addr: Deno.NetAddr;
  /**
   * Stops accepting connections, closes every WebSocket with 1001, lets
   * in-flight requests finish, then closes the store.
   */
  shutdown(): Promise<void>;
}

/**
 * Serves the chat on one port with one `Deno.serve` handler: requests that
 * ask for a WebSocket upgrade (on any path) become WebSockets, everything
 * else goes to the REST routes.
 */
export function serveChat(options: ServeChatOptions = {}): ChatServer {
  const app = createChatApp(options);
  const sockets = new Set<WebSocket>();
  const server = Deno.serve({
    hostname: options.hostname ?? "0.0.0.0",
    port: options.port ?? 3000,
    onListen: (addr) => options.onListen?.(addr as Deno.NetAddr),
  }, (request, info) => {
    const clientIp = (info.remoteAddr as Deno.NetAddr).hostname;
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return acceptWebSocket(request, clientIp, app, sockets);
    }
    return app.handleHttp(request, clientIp);
  });

  let stopping: Promise<void> | undefined;
  async function shutdown(): Promise<void> {
    app.beginShutdown();
    await closeAll(sockets, 1000);
    // Deno 2.9's server.shutdown() breaks the bodies of in-flight requests
    // (denoland/deno#36809), so let them finish first.
    await app.drain(2500);
    await server.shutdown();
    await app.close();
  }
  return {
    app,
    addr: server.addr,
    shutdown: () => stopping ??= shutdown(),
    [Symbol.asyncDispose]: () => stopping ??= shutdown(),
  };
}

/**
 * Closes every socket with 1001 and waits, at most `timeoutMs`, for the
 * closing handshakes. `server.shutdown()` would close them too, but with its
 * own reason, so ours must be through first.
 */
async function closeAll(sockets: Set<WebSocket>, timeoutMs: number) {
  const closed = [...sockets].map((socket) =>
    new Promise((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) return resolve(undefined);
      socket.addEventListener("close", resolve, { once: true });
      socket.close(1001, "server shutting down");
    })
  );
  await waitAtMost(Promise.all(closed), timeoutMs);
}
