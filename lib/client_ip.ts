import { BlockList, isIP } from "node:net";

/**
 * The proxies whose `X-Forwarded-For` the server believes: addresses and
 * CIDR ranges, IPv4 or IPv6 (`node:net`'s `BlockList`, which Deno and Bun
 * both provide, does the matching).
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #size: number;

  /**
   * Parses the entries, such as `10.0.0.1`, `10.0.0.0/8` or `fd00::/8`.
   *
   * @throws {RangeError} for an entry that is neither an address nor a range
   */
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      const [address = "", prefix, extra] = entry.trim().split("/");
      const family = isIP(address);
      const bits = family === 4 ? 32 : 128;
      const length = prefix === undefined ? bits : Number(prefix);
      if (
        family === 0 || extra !== undefined || !/^\d*$/.test(prefix ?? "") ||
        !(length >= 0 && length <= bits)
      ) {
        throw new RangeError(
          `"${entry}" is not an IP address or a CIDR range such as 10.0.0.0/8`,
        );
      }
      this.#list.addSubnet(address, length, family === 4 ? "ipv4" : "ipv6");
    }
    this.#size = entries.length;
  }

  /** Whether `address` is one of the proxies. */
  has(address: string): boolean {
    const family = isIP(address);
    if (this.#size === 0 || family === 0) return false;
    return this.#list.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}

/**
 * The address of the client behind a request, for every per-IP rule: the
 * peer's own address, unless the peer is a trusted proxy. Then
 * `X-Forwarded-For` is read from the right, where each proxy appended the
 * address it got the request from: trusted proxies are skipped, and the
 * first address that is not one is the client. What lies left of it was
 * written by the client and is not believed. An entry that is not an
 * address ends the walk at the proxy that passed it on.
 *
 * @param peerIp the address of the TCP peer, as the runtime reports it
 * @param forwardedFor the `X-Forwarded-For` header, or `null`
 */
export function resolveClientIp(
  peerIp: string,
  forwardedFor: string | null,
  trusted: TrustedProxies,
): string {
  let client = unmapped(peerIp);
  if (forwardedFor === null || !trusted.has(client)) return client;
  const hops = forwardedFor.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = unmapped(hops[i]!.trim());
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trusted.has(hop)) return client;
  }
  return client;
}

/** An IPv4 address written as IPv6 (`::ffff:127.0.0.1`), as IPv4. */
function unmapped(address: string): string {
  const ipv4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return ipv4 ?? address;
}
