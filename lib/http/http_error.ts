/**
 * A request the REST API refuses. The router turns it into a JSON
 * `{"error": message}` response with this status and these headers.
 */
export class HttpError extends Error {
  /** The HTTP status code of the response. */
  readonly status: number;
  /** Extra response headers, such as `Allow` for a 405. */
  readonly headers: HeadersInit;

  /** Creates the error with the message the client will read. */
  constructor(
    status: number,
    message: string,
    options: ErrorOptions & { headers?: HeadersInit } = {},
  ) {
    super(message, options);
    this.name = "HttpError";
    this.status = status;
    this.headers = options.headers ?? {};
  }
}
