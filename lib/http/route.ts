/** Handles one matched request. */
export type RouteHandler = (
  request: Request,
  params: Record<string, string>,
  clientIp: string,
) => Promise<Response>;

/** A path and the handler of each method it answers. */
export interface Route {
  /** The path, with `{name}` for a parameter: `/rooms/{room_id}`. */
  path: string;
  /** Handlers by HTTP method (`GET`, `POST`). */
  methods: Record<string, RouteHandler>;
}
