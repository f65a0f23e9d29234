/**
 * The chat page's files. They are imported as text, so they are part of the
 * module graph: a compiled executable (`deno compile`) or a bundle serves
 * them without reading the disk, and the core needs no file-system API.
 *
 * @module
 */
import appJs from "../../public/app.js" with { type: "text" };
import indexHtml from "../../public/index.html" with { type: "text" };
import styleCss from "../../public/style.css" with { type: "text" };

/** A file served as it is. */
export interface StaticFile {
  /** The file's text. */
  readonly body: string;
  /** Its `Content-Type`. */
  readonly type: string;
}

/** The page's files, by the path they are served at. */
export const STATIC_FILES: Readonly<Record<string, StaticFile>> = {
  "/": { body: indexHtml, type: "text/html; charset=utf-8" },
  "/style.css": { body: styleCss, type: "text/css; charset=utf-8" },
  "/app.js": { body: appJs, type: "text/javascript; charset=utf-8" },
};

/**
 * What the browser may load into the page: its own files, and WebSockets and
 * requests to its own server. Even if some text slipped into the page as
 * HTML, no foreign or inline script could run.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; " +
  "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'none'";

/** A response with a static file. */
export function staticResponse(file: StaticFile): Response {
  return new Response(file.body, {
    headers: {
      "content-type": file.type,
      "content-security-policy": CONTENT_SECURITY_POLICY,
      "x-content-type-options": "nosniff",
      // Revalidate on every load, so a restarted server's new page is used.
      "cache-control": "no-cache",
    },
  });
}
