import type * as v from "valibot";
import type { Chat } from "../chat.ts";
import {
  LIMITS,
  ReceiveBody,
  RoomsQuery,
  SendBody,
  validate,
} from "../contract.ts";
import { asyncApiDocument } from "../docs/asyncapi.ts";
import { openApiDocument } from "../docs/openapi.ts";
import { StoreUnavailableError } from "../store/store_unavailable_error.ts";
import { HttpError } from "./http_error.ts";
import {
  CORS_HEADERS,
  jsonResponse,
  timedJsonResponse,
} from "./json_response.ts";
import { readJsonBody } from "./read_json_body.ts";
import { STATIC_FILES, staticResponse } from "./static_files.ts";
import { QuotaError } from "../quota_error.ts";
import type { RateLimiter } from "../rate_limiter.ts";
import type { StorageQuota } from "../storage_quota.ts";
import type { Route } from "./route.ts";

/** Options of {@linkcode createRestHandler}. */
export interface RestOptions {
  /**
   * Largest accepted request body, in bytes.
   * @default {65536}
   */
  maxBodyBytes?: number | undefined;
  /**
   * Longest a request body may take to arrive, in milliseconds (then 408).
   * @default {10000}
   */
  bodyTimeoutMs?: number | undefined;
  /** What `POST /send` may store, per client IP address; none by default. */
  quota?: StorageQuota | undefined;
  /** Limits `POST /receive` per client IP address; none by default. */
  historyLimiter?: RateLimiter | undefined;
  /**
   * Longest a client may take to read a large answer (a page of history)
   * before its connection is closed, in milliseconds.
   * @default {30000}
   */
  writeTimeoutMs?: number | undefined;
  /**
   * Origins whose pages may read the answers (CORS); empty allows any.
   * @default {[]}
   */
  allowedOrigins?: readonly string[] | undefined;
  /** More routes, such as the operations endpoints. */
  extraRoutes?: Route[] | undefined;
  /** Called with an error no route expected, before the 500 response. */
  onUnexpectedError?:
    | ((error: unknown, request: Request) => void)
    | undefined;
}

/** The REST handler, which also tells its routes (for tests of the docs). */
export interface RestHandler {
  (request: Request, clientIp?: string): Promise<Response>;
  /** Every route: its path as in the OpenAPI document, and its methods. */
  readonly routes: ReadonlyArray<{ path: string; methods: string[] }>;
}

/**
 * Creates the handler of every plain HTTP request: the REST API of the
 * seed (`GET /rooms`, `POST /send`, `POST /receive`, which also pages) plus
 * `GET /rooms/{room_id}`, the chat page at `/`, and the API descriptions
 * `GET /openapi.json` and `GET /asyncapi.json`. Every answer but the page's
 * files is JSON, errors included.
 */
export function createRestHandler(
  chat: Chat,
  options: RestOptions = {},
): RestHandler {
  const bodyLimits = {
    maxBytes: options.maxBodyBytes ?? 65536,
    timeoutMs: options.bodyTimeoutMs,
  };
  const onUnexpectedError = options.onUnexpectedError ?? console.error;
  const writeTimeoutMs = options.writeTimeoutMs ?? 30_000;

  /** Refuses the request with 429 if `limiter` has no token for the IP. */
  async function checkRate(
    limiter: RateLimiter | undefined,
    request: Request,
    clientIp: string,
    what: string,
  ): Promise<void> {
    const decision = limiter?.take(clientIp);
    if (!decision || decision.allowed) return;
    await request.body?.cancel();
    throw new HttpError(
      429,
      `rate limited: too many ${what} from ${clientIp}; retry in ${decision.retryAfterSeconds} s`,
      { headers: { "retry-after": String(decision.retryAfterSeconds) } },
    );
  }

  async function readBody<S extends v.GenericSchema>(
    request: Request,
    schema: S,
  ): Promise<v.InferOutput<S>> {
    const result = validate(schema, await readJsonBody(request, bodyLimits));
    if (!result.ok) throw new HttpError(400, result.error);
    return result.value;
  }

  const routes: Route[] = [
    ...Object.entries(STATIC_FILES).map(([path, file]) => ({
      path,
      methods: { GET: () => Promise.resolve(staticResponse(file)) },
    })),
    {
      path: "/openapi.json",
      methods: { GET: () => Promise.resolve(jsonResponse(openApiDocument())) },
    },
    {
      path: "/asyncapi.json",
      methods: {
        GET: (request) => {
          const url = new URL(request.url);
          return Promise.resolve(jsonResponse(asyncApiDocument({
            host: url.host,
            secure: url.protocol === "https:",
          })));
        },
      },
    },
    {
      path: "/rooms",
      methods: {
        GET: async (request) => {
          const query = roomsQuery(new URL(request.url).searchParams);
          const { rooms, next } = await chat.store.rooms({
            limit: query.limit ?? LIMITS.roomsPage,
            after: query.after === undefined ? undefined : Number(query.after),
          });
          return timedJsonResponse(
            next === undefined
              ? { rooms, has_more: false }
              : { rooms, has_more: true, next: String(next) },
            writeTimeoutMs,
          );
        },
      },
    },
    {
      path: "/rooms/{room_id}",
      methods: {
        GET: async (_request, params) => {
          const result = validate(ReceiveBody, { room_id: params.room_id });
          if (!result.ok) throw new HttpError(400, result.error);
          const roomId = result.value.room_id;
          const info = await chat.roomInfo(roomId);
          if (!info) {
            throw new HttpError(
              404,
              `Room "${roomId}" not found: it has no members and no messages`,
            );
          }
          return jsonResponse(info);
        },
      },
    },
    {
      path: "/send",
      methods: {
        POST: async (request, _params, clientIp) => {
          const body = await readBody(request, SendBody);
          try {
            await options.quota?.admit(body, clientIp);
          } catch (error) {
            if (!(error instanceof QuotaError)) throw error;
            if (error.status === 429) chat.metrics.rateLimited.inc("rest");
            const retry = error.retryAfterSeconds;
            throw new HttpError(error.status, error.message, {
              headers: retry === undefined ? {} : { "retry-after": `${retry}` },
            });
          }
          return jsonResponse(await chat.post(body, "rest"));
        },
      },
    },
    {
      path: "/receive",
      methods: {
        POST: async (request, _params, clientIp) => {
          await checkRate(
            options.historyLimiter,
            request,
            clientIp,
            "history reads",
          );
          const { room_id, ...query } = await readBody(request, ReceiveBody);
          // Checked here, not in the schema: JSON Schema cannot compare two
          // fields, and the published schema must say what is validated.
          if (
            query.after !== undefined && query.before !== undefined &&
            query.after >= query.before
          ) throw new HttpError(400, "after must be less than before");
          const page = await chat.history(room_id, query);
          return timedJsonResponse({ room_id, ...page }, writeTimeoutMs);
        },
      },
    },
    ...options.extraRoutes ?? [],
  ];
  const findRoute = routeFinder(routes);

  const allowedOrigins = new Set(options.allowedOrigins ?? []);

  async function handleRest(
    request: Request,
    clientIp = "unknown",
  ): Promise<Response> {
    const response = await answer(request, clientIp);
    if (allowedOrigins.size === 0) return response;
    return restrictOrigin(response, request.headers.get("origin"));
  }

  /**
   * With an allow-list, CORS names the request's origin if it is listed,
   * and no origin otherwise, so that a browser lets only listed pages read
   * the answer (or send a JSON body at all, as that needs a preflight).
   */
  function restrictOrigin(response: Response, origin: string | null) {
    const { headers } = response;
    if (!headers.has("access-control-allow-origin")) return response;
    if (origin !== null && allowedOrigins.has(origin)) {
      headers.set("access-control-allow-origin", origin);
    } else headers.delete("access-control-allow-origin");
    headers.append("vary", "Origin");
    return response;
  }

  async function answer(request: Request, clientIp: string): Promise<Response> {
    try {
      const { pathname } = new URL(request.url);
      const { route, params } = findRoute(pathname);
      if (request.method === "OPTIONS") {
        return new Response(null, {
          status: 204,
          headers: { ...CORS_HEADERS, allow: allowHeader(route) },
        });
      }
      // HEAD is GET without the body (RFC 9110), wherever GET is.
      const head = request.method === "HEAD" &&
        Object.hasOwn(route.methods, "GET");
      const method = head ? "GET" : request.method;
      // Only own keys: a method named "toString" must not find the
      // Object.prototype function and call it as a handler.
      const handler = Object.hasOwn(route.methods, method)
        ? route.methods[method]
        : undefined;
      if (!handler) {
        throw new HttpError(
          405,
          `${request.method} ${pathname} is not supported: use ${
            Object.keys(route.methods).join(" or ")
          } ${pathname}`,
          { headers: { allow: allowHeader(route) } },
        );
      }
      const response = await handler(request, params, clientIp);
      if (!head) return response;
      await response.body?.cancel();
      return new Response(null, response);
    } catch (error) {
      if (error instanceof HttpError) {
        chat.metrics.errors.inc(`http_${error.status}`);
        return jsonResponse(
          { error: error.message },
          error.status,
          error.headers,
        );
      }
      if (error instanceof StoreUnavailableError) {
        chat.metrics.errors.inc("http_503");
        return jsonResponse({ error: error.message }, 503, {
          "retry-after": "1",
        });
      }
      chat.metrics.errors.inc("http_500");
      onUnexpectedError(error, request);
      return jsonResponse({ error: "Internal server error" }, 500);
    }
  }
  return Object.assign(handleRest, {
    routes: routes.map(({ path, methods }) => ({
      path,
      methods: Object.keys(methods),
    })),
  });
}

/**
 * The query of `GET /rooms`, validated: numbers as numbers, other values
 * as text (for the schema to refuse), unknown parameters left out.
 */
function roomsQuery(params: URLSearchParams): RoomsQuery {
  const input: Record<string, string | number> = {};
  for (const name of Object.keys(RoomsQuery.entries)) {
    const text = params.get(name);
    if (text === null) continue;
    input[name] = name !== "after" && /^-?\d+(\.\d+)?$/.test(text)
      ? Number(text)
      : text;
  }
  const result = validate(RoomsQuery, input);
  if (!result.ok) throw new HttpError(400, result.error);
  return result.value;
}

/** The `Allow` header of a route: its methods, `HEAD` with `GET`, `OPTIONS`. */
function allowHeader(route: Route): string {
  const methods = Object.keys(route.methods);
  if (methods.includes("GET")) methods.push("HEAD");
  return [...methods, "OPTIONS"].join(", ");
}

/** A route's path cut into segments once: text, or a `{name}` parameter. */
type Segment = string | { param: string };

/**
 * Compiles the routes' paths once into the function that finds the route of
 * a request's path: an exact path by a Map lookup, a path with parameters
 * segment by segment (a `{name}` matches any non-empty segment and is
 * returned URL-decoded). An unknown path throws the 404.
 */
function routeFinder(
  routes: Route[],
): (pathname: string) => { route: Route; params: Record<string, string> } {
  const exact = new Map<string, Route>();
  const templated: { route: Route; segments: Segment[] }[] = [];
  for (const route of routes) {
    if (!route.path.includes("{")) {
      if (!exact.has(route.path)) exact.set(route.path, route);
      continue;
    }
    const segments = route.path.split("/").map((part): Segment => {
      const param = /^\{(\w+)\}$/.exec(part)?.[1];
      return param === undefined ? part : { param };
    });
    templated.push({ route, segments });
  }

  return function findRoute(pathname) {
    const route = exact.get(pathname);
    if (route) return { route, params: {} };
    const actual = pathname.split("/");
    for (const { route, segments } of templated) {
      const params = match(segments, actual);
      if (params) return { route, params };
    }
    throw new HttpError(404, "Endpoint not found");
  };
}

function match(
  segments: Segment[],
  actual: string[],
): Record<string, string> | undefined {
  if (segments.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of segments.entries()) {
    const value = actual[i]!;
    if (typeof segment === "string") {
      if (segment !== value) return undefined;
    } else if (value === "") return undefined;
    else params[segment.param] = decodePathSegment(segment.param, value);
  }
  return params;
}

function decodePathSegment(name: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, `${name} in the path is not valid URL encoding`);
  }
}
