/**
 * Redis URLs as the server takes them (`--redis`, `CHAT_REDIS`):
 * `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS.
 *
 * @module
 */

/** What {@linkcode parseRedisUrl} found in a valid URL. */
export interface RedisUrl {
  /** The URL as given, password included: only for the client. */
  href: string;
  /** The URL without its password, to print and log. */
  redacted: string;
  /** The database number, 0 unless the path names one. */
  database: number;
  /** Whether the connection uses TLS (`rediss://`). */
  tls: boolean;
}

/**
 * Checks a Redis URL. The error messages never repeat a password.
 *
 * @throws {TypeError} with a message that says what is wrong
 */
export function parseRedisUrl(text: string): RedisUrl {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new TypeError(
      `must be a URL such as redis://localhost:6379/0, not "${
        redactRedisUrl(text)
      }"`,
    );
  }
  const redacted = redactRedisUrl(text.trim());
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new TypeError(
      `must start with redis:// or rediss:// (TLS), not "${redacted}"`,
    );
  }
  if (url.hostname === "") {
    throw new TypeError(`must name a host, as in redis://localhost:6379`);
  }
  const path = url.pathname.replace(/^\//, "");
  if (!/^\d{0,5}$/.test(path)) {
    throw new TypeError(
      `may end with a database number such as /0, not "/${path}" ("${redacted}")`,
    );
  }
  if (url.search || url.hash) {
    throw new TypeError(
      `must not have a query or fragment ("${redacted}")`,
    );
  }
  return {
    href: url.href,
    redacted: redactRedisUrl(url.href),
    database: path === "" ? 0 : Number(path),
    tls: url.protocol === "rediss:",
  };
}

/**
 * The URL with its password replaced by `***`, for output. Works on text
 * that is not a valid URL too, as far as it looks like one.
 */
export function redactRedisUrl(text: string): string {
  return text.replace(
    /^(\s*[a-z][a-z0-9+.-]*:\/\/[^:@/]*:)[^@/]*@/i,
    "$1***@",
  );
}
