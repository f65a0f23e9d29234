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

/** Bytes of a streamed body handed to the runtime at a time. */
const STREAM_CHUNK_BYTES = 64 * 1024;

/**
 * A JSON response whose body must be read within `timeoutMs`, for answers
 * that may be large (a page of history). Without a deadline, a client that
 * never reads would keep its answer in the server's memory for as long as
 * it keeps the connection open: `Deno.serve` has no write timeout.
 *
 * The body is handed over in chunks as the socket takes them; at the
 * deadline it ends short of its `Content-Length` and the server lets go of
 * what is left. Deno then closes the connection at once; Bun keeps it
 * until its idle timeout (10 s without progress) closes it. (Erroring the
 * stream would close it on Bun too, but both runtimes print a stream error
 * as a crash report, which an attacker could repeat at will.)
 */
export function timedJsonResponse(
  body: unknown,
  timeoutMs: number,
): Response {
  let bytes: Uint8Array | undefined = new TextEncoder().encode(
    JSON.stringify(body),
  );
  const length = bytes.length;
  let sent = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  function end(controller: ReadableStreamDefaultController<Uint8Array>) {
    clearTimeout(timer);
    bytes = undefined;
    controller.close();
  }
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setTimeout(() => end(controller), timeoutMs);
    },
    pull(controller) {
      if (!bytes) return;
      controller.enqueue(bytes.subarray(sent, sent += STREAM_CHUNK_BYTES));
      if (sent >= length) end(controller);
    },
    cancel() {
      clearTimeout(timer);
      bytes = undefined;
    },
  }, { highWaterMark: 0 });
  return new Response(stream, {
    headers: {
      ...CORS_HEADERS,
      "content-type": "application/json",
      "content-length": String(length),
    },
  });
}
