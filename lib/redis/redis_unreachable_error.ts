/**
 * Redis could not be reached, or refused the login, when the server started.
 * The message is one line that names the URL without its password and says
 * what to check, for `main.ts` to print as it is.
 */
export class RedisUnreachableError extends Error {
  /** Creates the error; the message names the URL without its password. */
  constructor(redactedUrl: string, reason: string, options?: ErrorOptions) {
    super(
      `Cannot reach Redis at ${redactedUrl}: ${reason}. Check that Redis runs there and that the host, port, password, database and TLS (rediss://) are right.`,
      options,
    );
    this.name = "RedisUnreachableError";
  }
}
