/** Handles one matched request. */
export type RouteHandler = (
  request: Request,
  params: Record<string, string>,
  clientIp: string,
) => Promise<Response>;

/** A path pattern and the handler of each method it answers. */
export interface Route {
  /** Matched against the URL's pathname; named groups become `params`. */
  pattern: RegExp;
  /** Handlers by HTTP method (`GET`, `POST`). */
  methods: Record<string, RouteHandler>;
}
