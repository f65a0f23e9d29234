import { jsonResponse } from "./json_response.ts";

/**
 * The answer to a WebSocket upgrade request that is not a valid opening
 * handshake (RFC 6455, section 4.2.1), or `undefined` if it is one.
 *
 * The runtimes check the handshake too, but each answers a bad one its own
 * way (Deno throws a message of its own, Bun answers 426 or gives no reason
 * at all), so the server checks first and answers alike everywhere.
 */
export function refuseHandshake(request: Request): Response | undefined {
  const { headers, method } = request;
  if (method !== "GET") return invalid(`use GET, not ${method}`);
  if (!hasToken(headers.get("connection"), "upgrade")) {
    return invalid('the Connection header must contain "Upgrade"');
  }
  if (!headers.get("sec-websocket-key")) {
    return invalid("the Sec-WebSocket-Key header is missing");
  }
  if (headers.get("sec-websocket-version") !== "13") {
    // The status and header RFC 6455 asks for: the versions understood.
    return invalid("the Sec-WebSocket-Version header must be 13", 426, {
      "sec-websocket-version": "13",
    });
  }
  return undefined;
}

function invalid(
  problem: string,
  status = 400,
  headers: HeadersInit = {},
): Response {
  return jsonResponse(
    { error: `Invalid WebSocket upgrade: ${problem}` },
    status,
    headers,
  );
}

/** Whether a comma-separated header holds `token`, in any case. */
function hasToken(header: string | null, token: string): boolean {
  return header?.split(",").some((part) =>
    part.trim().toLowerCase() === token
  ) ?? false;
}
