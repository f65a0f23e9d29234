import type { Chat } from "../chat.ts";
import { createHash, timingSafeEqual } from "node:crypto";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";
import { HttpError } from "./http_error.ts";
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
  /**
   * The token `GET /metrics` asks for as `Authorization: Bearer <token>`;
   * without one the metrics are public.
   */
  metricsToken?: string | undefined;
}

/**
 * `GET /healthz` (the process answers), `GET /readyz` (the store can write,
 * messages can be stored and the server is not shutting down) and
 * `GET /metrics` (Prometheus text).
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
            chat.storeHealth.failed(error);
            const reason = error instanceof StoreUnavailableError
              ? error.message
              : `store unreachable: ${(error as Error).message}`;
            return jsonResponse({ error: reason }, 503);
          }
          // The store could write just now.
          chat.storeHealth.succeeded();
          return jsonResponse({ status: "ready" });
        },
      },
    },
    {
      path: "/metrics",
      methods: {
        GET: (request) => {
          if (!authorized(request, state.metricsToken)) {
            throw new HttpError(
              401,
              "GET /metrics needs the header Authorization: Bearer <token>, with the server's --metrics-token",
              { headers: { "www-authenticate": 'Bearer realm="metrics"' } },
            );
          }
          return Promise.resolve(
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
          );
        },
      },
    },
  ];
}

/**
 * Whether a request carries the bearer token, if one is asked for. Both
 * sides are hashed first, so that the comparison takes the same time
 * whatever the guess.
 */
function authorized(request: Request, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = /^Bearer +(\S+) *$/i.exec(
    request.headers.get("authorization") ?? "",
  )?.[1] ?? "";
  return timingSafeEqual(sha256(given), sha256(token));
}

function sha256(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}
