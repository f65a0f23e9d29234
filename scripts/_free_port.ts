/**
 * A TCP port of 127.0.0.1 that was free a moment ago, for a program that
 * must be told its port (a port can be taken between the probe and its
 * use: a caller that cares tries again).
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
