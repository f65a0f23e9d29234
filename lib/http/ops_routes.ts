import type { Chat } from "../chat.ts";
import { jsonResponse } from "./json_response.ts";
import type { Route } from "./route.ts";

/** What the operations endpoints read from the running server. */
export interface OpsState {
  /** The chat: its store, rooms and metrics. */
  chat: Chat;
  /** Open WebSocket connections. */
  openConnections(): number;
  /** Whether the server is shutting down. */
  shuttingDown(): boolean;
  /** Why messages cannot be stored now (a disk nearly full), if so. */
  writesRefused?: (() => string | undefined) | undefined;
}

/**
 * `GET /healthz` (the process answers), `GET /readyz` (the store answers,
 * messages can be stored and the server is not shutting down) and `GET /metrics` (Prometheus text).
 */
export function opsRoutes(state: OpsState): Route[] {
  const { chat } = state;
  return [
    {
      path: "/healthz",
      methods: { GET: () => Promise.resolve(jsonResponse({ status: "ok" })) },
    },
    {
      path: "/readyz",
      methods: {
        GET: async () => {
          if (state.shuttingDown()) {
            return jsonResponse({ error: "server shutting down" }, 503);
          }
          const refused = state.writesRefused?.();
          if (refused) return jsonResponse({ error: refused }, 503);
          try {
            await chat.store.ping();
          } catch (error) {
            return jsonResponse(
              { error: `store unreachable: ${(error as Error).message}` },
              503,
            );
          }
          return jsonResponse({ status: "ready" });
        },
      },
    },
    {
      path: "/metrics",
      methods: {
        GET: () =>
          Promise.resolve(
            new Response(
              chat.metrics.render({
                connections: state.openConnections(),
                rooms: chat.rooms.size,
                members: chat.rooms.memberships,
              }),
              {
                headers: {
                  "content-type": "text/plain; version=0.0.4; charset=utf-8",
                },
              },
            ),
          ),
      },
    },
  ];
}
