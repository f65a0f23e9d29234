import { parseJson } from "../parse_json.ts";
import { HttpError } from "./http_error.ts";

/**
 * Reads a request body that must be JSON, refusing it with an
 * {@linkcode HttpError} when it is not declared as `application/json` (415),
 * is larger than `maxBytes` (413), or does not parse (400). The body is read
 * chunk by chunk, so an oversized one is never held whole in memory.
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
  const tooLarge = new HttpError(
    413,
    `request body is larger than the limit of ${maxBytes} bytes`,
  );
  const declared = Number(request.headers.get("content-length"));
  if (declared > maxBytes) {
    await request.body?.cancel();
    throw tooLarge;
  }

  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body ?? []) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge;
    chunks.push(chunk);
  }
  const text = new TextDecoder().decode(concat(chunks, size));
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
