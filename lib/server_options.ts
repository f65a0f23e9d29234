import { dirname, resolve } from "node:path";
import type { ServeChatOptions } from "./adapters/chat_server.ts";
import type { Config } from "./config.ts";

/**
 * The server's options from its settings: all but the store, the logger
 * and `onListen`, which the caller makes.
 */
export function serverOptions(config: Config): ServeChatOptions {
  return {
    hostname: config.host,
    port: config.port,
    joinHistory: config["join-history"],
    pageMax: config["page-max"],
    pageMaxBytes: config["page-max-bytes"],
    historyRateLimit: config["history-rate-limit"],
    retention: {
      maxPerRoom: config["history-max"] === 0
        ? Infinity
        : config["history-max"],
      maxAgeSeconds: config["history-ttl"] ?? Infinity,
    },
    maxFrameBytes: config["max-frame-bytes"],
    maxBodyBytes: config["max-body-bytes"],
    bodyTimeoutMs: config["body-timeout"] * 1000,
    writeTimeoutMs: config["write-timeout"] * 1000,
    maxRoomsPerConnection: config["max-rooms-per-connection"],
    maxConnections: config["max-connections"],
    maxConnectionsPerIp: config["max-connections-per-ip"],
    ipConnectRate: config["ip-connect-rate"],
    maxOpenConnections: config["max-open-connections"] === "auto"
      ? undefined
      : config["max-open-connections"],
    headerTimeoutSeconds: config["header-timeout"],
    rateLimit: config["rate-limit"],
    ipRateLimit: config["ip-rate-limit"],
    ipMessageRate: config["ip-message-rate"],
    ipRoomsPerMinute: config["ip-room-rate"],
    maxRooms: config["max-rooms"],
    // With Redis the history is on Redis's disk, not this machine's.
    diskPath: config.db === ":memory:" || config.redis !== null ||
        config["min-free-disk"] === 0
      ? undefined
      : dirname(resolve(config.db)),
    minFreeDiskBytes: config["min-free-disk"],
    floodCloseMs: config["flood-timeout"] * 1000,
    maxBufferedBytes: config["max-buffered-bytes"],
    idleTimeoutSeconds: config["idle-timeout"],
    allowedOrigins: config["allowed-origins"],
    trustProxy: config["trust-proxy"],
    metricsToken: config["metrics-token"] ?? undefined,
  };
}
