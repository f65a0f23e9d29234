import { waitAtMost } from "../_wait_at_most.ts";
import type { ChatApp, ChatAppOptions } from "../chat_app.ts";

/** Where a server listens. */
export interface ListenAddr {
  /** The address, e.g. `0.0.0.0` or `127.0.0.1`. */
  hostname: string;
  /** The TCP port, the one the system picked when 0 was asked for. */
  port: number;
}

/** Options of `serveChat()`, on every runtime. */
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
  onListen?: ((addr: ListenAddr) => void) | undefined;
}

/** A running chat server. */
export interface ChatServer extends AsyncDisposable {
  /** The app it serves, for tests and metrics. */
  readonly app: ChatApp;
  /** The address it listens on. */
  readonly addr: ListenAddr;
  /**
   * Stops accepting connections, closes every WebSocket with 1001, lets
   * in-flight requests finish, then closes the store.
   */
  shutdown(): Promise<void>;
}

/** What a runtime's server does for its part of a graceful shutdown. */
export interface ShutdownSteps {
  /** Closes every open WebSocket with this code and reason. */
  closeSockets(code: number, reason: string): Promise<void>;
  /** Stops listening and ends the connections that are left. */
  stopListening(): Promise<void>;
}

/** Longest wait for the closing handshakes of the WebSockets. */
const CLOSE_HANDSHAKES_MS = 1000;
/** Longest wait for in-flight REST requests to finish. */
const DRAIN_MS = 2500;

/**
 * Shuts a chat server down in the same order on every runtime: refuse new
 * connections, close every WebSocket with 1001 "server shutting down",
 * let in-flight requests finish, stop listening, then flush and close the
 * store. Each wait is bounded, so it ends within about four seconds.
 */
export async function shutDownChat(
  app: ChatApp,
  steps: ShutdownSteps,
): Promise<void> {
  app.beginShutdown();
  await waitAtMost(
    steps.closeSockets(1001, "server shutting down"),
    CLOSE_HANDSHAKES_MS,
  );
  await app.drain(DRAIN_MS);
  await steps.stopListening();
  await app.close();
}
