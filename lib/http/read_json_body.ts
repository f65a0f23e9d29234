import { parseJson } from "../parse_json.ts";
import { HttpError } from "./http_error.ts";

/**
 * Reads a request body that must be JSON, refusing it with an
 * {@linkcode HttpError} when it is not declared as `application/json` (415),
 * is larger than `maxBytes` (413), or does not parse (400). An oversized
 * body is never held whole in memory: with a declared length it is refused
 * unread, without one it is read chunk by chunk and refused on the way.
 */
export async function readJsonBody(
  request: Request,
  maxBytes: number,
): Promise<unknown> {
  const mediaType = request.headers.get("content-type")?.split(";")[0]?.trim()
    .toLowerCase();
  if (mediaType !== "application/json") {
    throw new HttpError(
      415,
      'Content-Type must be application/json: add the header "Content-Type: application/json"',
    );
  }
  // Made only when thrown: an Error captures a stack trace, which costs a
  // good part of a request's time.
  const tooLarge = () =>
    new HttpError(
      413,
      `request body is larger than the limit of ${maxBytes} bytes`,
    );
  let text;
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > maxBytes) {
      await request.body?.cancel();
      throw tooLarge();
    }
    // The declared length bounds the body, so it can be read in one go,
    // which is much cheaper than through a stream reader.
    text = await request.text();
  } else {
    text = await readChunks(request.body, maxBytes, tooLarge);
  }
  if (text.trim() === "") {
    throw new HttpError(
      400,
      'request body is empty: send a JSON object such as {"room_id": "general"}',
    );
  }
  const json = parseJson(text);
  if (!json.ok) {
    throw new HttpError(400, `request body is not valid JSON: ${json.error}`);
  }
  return json.value;
}

/** Reads a body of unknown length, refusing it as soon as it is too large. */
async function readChunks(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLarge: () => HttpError,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body ?? []) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return new TextDecoder().decode(concat(chunks, size));
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
