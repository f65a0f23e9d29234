/**
 * Headers that let a page from any origin call the REST API: students serve
 * their pages from other ports, and the API has no authentication to
 * protect.
 */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "Content-Type",
  "access-control-max-age": "86400",
};

/** A JSON response with the CORS headers. */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers?: HeadersInit,
): Response {
  const response = new Response(JSON.stringify(body), {
    status,
    headers: { ...CORS_HEADERS, "content-type": "application/json" },
  });
  // Only some errors add headers: copying none would still cost a Headers
  // iterator and make the response build its `headers` object.
  if (headers === undefined) return response;
  for (const [name, value] of new Headers(headers)) {
    response.headers.set(name, value);
  }
  return response;
}
