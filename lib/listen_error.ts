/**
 * Why a server could not start listening, in one line that names the port
 * or host and says what to do. Deno and Bun throw different errors for the
 * same problem (Deno an `AddrInUse`, Bun an `Error` with `code` set), so
 * both are read here, by their error code or their name.
 *
 * @module
 */

/** Where the server tried to listen. */
export interface ListenTarget {
  /** The `--host` asked for. */
  hostname: string;
  /** The `--port` asked for. */
  port: number;
}

const CHOOSE_HOST = "set --host to 0.0.0.0 (every network interface), " +
  "127.0.0.1 (this machine only) or an IP address of this machine";

/**
 * The message for an error thrown by `Deno.serve()` or `Bun.serve()`, or
 * `undefined` when the error is not about the address.
 *
 * @example
 * ```ts
 * listenErrorMessage(new Deno.errors.AddrInUse("in use"), {
 *   hostname: "0.0.0.0",
 *   port: 3000,
 * }); // 'port 3000 is already in use on 0.0.0.0: ...'
 * ```
 */
export function listenErrorMessage(
  error: unknown,
  { hostname, port }: ListenTarget,
): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  switch (code ?? error.name) {
    case "EADDRINUSE":
    case "AddrInUse":
      return `port ${port} is already in use on ${hostname}: stop the ` +
        `program that listens on it (another chat server?), or choose ` +
        `another port with --port, e.g. --port ${port === 3000 ? 3001 : 3000}`;
    case "EADDRNOTAVAIL":
    case "AddrNotAvailable":
      return `host "${hostname}" is not an address of this machine: ` +
        CHOOSE_HOST;
    case "EACCES":
    case "PermissionDenied":
      return `port ${port} needs administrator rights (ports below 1024 ` +
        `do): choose a port from 1024 up with --port, e.g. --port 3000`;
  }
  if (isLookupFailure(error)) {
    return `host "${hostname}" is not a known host name or address: ` +
      CHOOSE_HOST;
  }
  return undefined;
}

/** A host name that does not resolve, as each runtime reports it. */
function isLookupFailure(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return error.name === "URIError" || code === "ENOTFOUND" ||
    // Bun answers EINVAL for some names that do not resolve.
    code === "EINVAL" ||
    /failed to lookup address|getaddrinfo|name or service not known|nodename nor servname/i
      .test(error.message);
}
