import { waitAtMost } from "./_wait_at_most.ts";
import { Admission, type AdmissionOptions, type Refusal } from "./admission.ts";
import { Chat } from "./chat.ts";
import { TrustedProxies } from "./client_ip.ts";
import { Connection } from "./connection.ts";
import { FAR_OVER_FACTOR } from "./dispatcher.ts";
import { jsonResponse } from "./http/json_response.ts";
import { opsRoutes } from "./http/ops_routes.ts";
import { createRestHandler } from "./http/rest_handler.ts";
import { refuseHandshake } from "./http/websocket_handshake.ts";
import { Logger } from "./logger.ts";
import type { ChatMetrics } from "./metrics/chat_metrics.ts";
import { connectionCap, readOpenFileLimit } from "./open_file_limit.ts";
import { StoreHealth } from "./store_health.ts";
import { StoreUnavailableError } from "./store/store_unavailable_error.ts";
import type { Peer } from "./peer.ts";
import { DiskWatch } from "./disk_watch.ts";
import { RateLimiter } from "./rate_limiter.ts";
import { Retention, type RetentionOptions } from "./retention.ts";
import type { RoomBus } from "./room_bus.ts";
import type { RoomFanout } from "./room_fanout.ts";
import { StorageQuota } from "./storage_quota.ts";
import { MemoryStore } from "./store/memory.ts";
import type { MessageStore } from "./store/store.ts";

/** Options of {@linkcode createChatApp}. */
export interface ChatAppOptions extends AdmissionOptions {
  /**
   * Where messages are kept.
   * @default {new MemoryStore()}
   */
  store?: MessageStore | undefined;
  /**
   * How the rooms' events reach their members, on every instance.
   * @default {a LocalRoomBus: this process only}
   */
  bus?: RoomBus | undefined;
  /**
   * How a room's frames reach its live members on this instance (the
   * runtime adapter's choice).
   * @default {SEND_TO_EACH: one send per member}
   */
  fanout?: RoomFanout | undefined;
  /**
   * Where the server counts what it does, for `GET /metrics`.
   * @default {new ChatMetrics()}
   */
  metrics?: ChatMetrics | undefined;
  /**
   * How many recent messages a joiner receives.
   * @default {50}
   */
  joinHistory?: number | undefined;
  /**
   * Most messages one history page holds (`POST /receive`, `since`).
   * @default {1000}
   */
  pageMax?: number | undefined;
  /**
   * Most bytes of JSON one `POST /receive` page holds.
   * @default {1048576}
   */
  pageMaxBytes?: number | undefined;
  /**
   * `POST /receive` requests per second per IP (bursts of twice that); 0
   * turns the limit off.
   * @default {30}
   */
  historyRateLimit?: number | undefined;
  /**
   * The limits the store is pruned to in the background.
   * @default {{ maxPerRoom: 10000 }}
   */
  retention?: RetentionOptions | undefined;
  /**
   * Largest accepted WebSocket frame, in bytes.
   * @default {65536}
   */
  maxFrameBytes?: number | undefined;
  /**
   * Largest accepted REST request body, in bytes.
   * @default {65536}
   */
  maxBodyBytes?: number | undefined;
  /**
   * Longest a REST request body may take to arrive, in milliseconds.
   * @default {10000}
   */
  bodyTimeoutMs?: number | undefined;
  /**
   * Longest a client may take to read a page of history, in milliseconds.
   * @default {30000}
   */
  writeTimeoutMs?: number | undefined;
  /**
   * Most rooms one connection may be in at once.
   * @default {100}
   */
  maxRoomsPerConnection?: number | undefined;
  /**
   * Frames per second per WebSocket connection (bursts of twice that); 0
   * turns the limit off.
   * @default {20}
   */
  rateLimit?: number | undefined;
  /**
   * Frames per second per client IP address, summed over its WebSocket
   * connections (bursts of twice that); 0 turns the limit off.
   * @default {200}
   */
  ipRateLimit?: number | undefined;
  /**
   * Messages per second per client IP address, over WebSocket and
   * `POST /send` together (bursts of twice that); 0 turns the limit off.
   * @default {20}
   */
  ipMessageRate?: number | undefined;
  /**
   * New rooms per minute per client IP address (bursts of twice that); 0
   * turns the limit off.
   * @default {30}
   */
  ipRoomsPerMinute?: number | undefined;
  /**
   * Most rooms with messages.
   * @default {100000}
   */
  maxRooms?: number | undefined;
  /**
   * The folder the store writes to, whose disk must keep
   * `minFreeDiskBytes` free; none for a store in memory.
   */
  diskPath?: string | undefined;
  /**
   * Free bytes on the store's disk below which messages are refused.
   * @default {104857600}
   */
  minFreeDiskBytes?: number | undefined;
  /**
   * A connection that stays over the rate limit this long is closed (1008).
   * @default {10000}
   */
  floodCloseMs?: number | undefined;
  /**
   * Outgoing bytes a socket may have waiting before it is closed (1013).
   * @default {1048576}
   */
  maxBufferedBytes?: number | undefined;
  /**
   * Seconds without an answer to a ping before a socket is dropped; 0 off.
   * @default {30}
   */
  idleTimeoutSeconds?: number | undefined;
  /**
   * Seconds a connection may take to send a complete request head, from
   * its opening or the end of its last answer, before it is closed.
   * @default {10}
   */
  headerTimeoutSeconds?: number | undefined;
  /**
   * Where notable events are logged.
   * @default {new Logger()}
   */
  logger?: Logger | undefined;
  /**
   * Addresses and CIDR ranges of the reverse proxies whose
   * `X-Forwarded-For` names the client, for every per-IP rule.
   * @default {[]}
   */
  trustProxy?: readonly string[] | undefined;
  /**
   * The token `GET /metrics` asks for as `Authorization: Bearer <token>`;
   * without one the metrics are public.
   */
  metricsToken?: string | undefined;
}

/** The limits a socket adapter enforces with its runtime's own means. */
export interface SocketLimits {
  /**
   * Largest frame read at all: a larger one closes the socket (1009). The
   * dispatcher checks it on arrival; a runtime that can refuse such a frame
   * before reading it should.
   */
  largestFrameBytes: number;
  /**
   * Outgoing bytes a socket may have waiting for long before it is closed
   * (the rule itself is the core's, in `lib/outbox.ts`).
   */
  maxBufferedBytes: number;
  /** Seconds without a pong before a socket is dropped; 0 off. */
  idleTimeoutSeconds: number;
  /**
   * Seconds a connection may take to send a complete request head, from
   * its opening or the end of its last answer (see `lib/header_timeout.ts`).
   */
  headerTimeoutSeconds: number;
}

/** The answer of {@linkcode ChatApp.admit}. */
export type Admitted = { refused: Refusal } | { leave: () => void };

/**
 * The whole chat server without its runtime: what a runtime adapter needs
 * to serve it.
 */
export interface ChatApp {
  /** The shared chat state. */
  readonly chat: Chat;
  /** Where notable events are logged. */
  readonly logger: Logger;
  /** Prunes the store in the background; `prune()` runs a pass at once. */
  readonly retention: Retention;
  /** Limits the adapter enforces on each socket. */
  readonly socketLimits: SocketLimits;
  /**
   * Admits a new connection from `clientIp` where the adapter first sees
   * one (Deno: as it accepts it; Bun: at its WebSocket upgrade): why it is
   * refused (the adapter answers 503 and closes it), or the function that
   * counts it closed, to be called once it has. `undefined` stands for a
   * connection from a trusted proxy, which is not counted by address.
   */
  admit(clientIp: string | undefined): Admitted;
  /**
   * Admits a client behind a trusted proxy by its address alone (its
   * connection, the proxy's, is counted already): on Deno, at its WebSocket
   * upgrade, where the server first sees who it is.
   */
  admitAddress(clientIp: string): Admitted;
  /** The proxies the adapter believes about the client's address. */
  readonly trustedProxies: TrustedProxies;
  /** Answers a plain HTTP request (the REST API). */
  handleHttp(request: Request, clientIp: string): Promise<Response>;
  /**
   * The answer that refuses a WebSocket upgrade (the server is full or
   * shutting down, the origin is not allowed, the handshake is invalid),
   * or `undefined` to accept it.
   */
  refuseUpgrade(request: Request, clientIp: string): Response | undefined;
  /**
   * Starts serving an accepted WebSocket: the {@linkcode Connection} that
   * owns its life, to which the adapter hands its frames and its close.
   */
  connect(peer: Peer, clientIp: string): Connection;
  /** Refuses new connections and makes `/readyz` answer 503. */
  beginShutdown(): void;
  /** Resolves once no REST request is in flight, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
  /** Stops pruning, finishes pending writes and closes the store. */
  close(): Promise<void>;
}

/** Builds the chat server from its parts. */
export function createChatApp(options: ChatAppOptions = {}): ChatApp {
  const logger = options.logger ?? new Logger();
  const chat = new Chat({
    store: options.store ?? new MemoryStore(),
    bus: options.bus,
    fanout: options.fanout,
    metrics: options.metrics,
    joinHistory: options.joinHistory,
    pageMax: options.pageMax,
    pageMaxBytes: options.pageMaxBytes,
    storeHealth: new StoreHealth(logger),
  });
  const retention = new Retention(chat.store, {
    ...options.retention,
    onError(error) {
      if (error instanceof StoreUnavailableError) {
        chat.storeHealth.failed(error);
      } else logger.error("retention.failed", { error });
    },
  });
  retention.start();
  const admission = new Admission({
    ...options,
    maxOpenConnections: options.maxOpenConnections ??
      connectionCap(readOpenFileLimit()),
  });
  const refusals = new RefusalLog(logger);
  /** A connection or handshake refused: counted, and logged now and then. */
  const countRefusal = (ip: string, refusal: Refusal) => {
    chat.metrics.errors.inc(refusal.reason);
    refusals.note(ip, refusal);
  };
  const rateLimit = options.rateLimit ?? 20;
  const historyRateLimit = options.historyRateLimit ?? 30;
  const ipRateLimit = options.ipRateLimit ?? 200;
  const ipLimiter = ipRateLimit > 0
    ? new RateLimiter({ rate: ipRateLimit })
    : undefined;
  const disk = options.diskPath === undefined ? undefined : new DiskWatch({
    path: options.diskPath,
    minFreeBytes: options.minFreeDiskBytes ?? 100 * 1024 * 1024,
    onChange(full, freeBytes) {
      if (full) logger.warn("store.disk_full", { free_bytes: freeBytes });
      else logger.info("store.disk_ok", { free_bytes: freeBytes });
    },
    onError: (error) => logger.warn("store.disk_unknown", { error }),
  });
  const quota = new StorageQuota(chat.store, {
    ipMessageRate: options.ipMessageRate,
    ipRoomsPerMinute: options.ipRoomsPerMinute,
    maxRooms: options.maxRooms,
    disk,
  });
  const handleHttp = createRestHandler(chat, {
    maxBodyBytes: options.maxBodyBytes,
    bodyTimeoutMs: options.bodyTimeoutMs,
    writeTimeoutMs: options.writeTimeoutMs,
    allowedOrigins: options.allowedOrigins,
    quota,
    historyLimiter: historyRateLimit > 0
      ? new RateLimiter({ rate: historyRateLimit })
      : undefined,
    extraRoutes: opsRoutes({
      chat,
      openConnections: () => admission.webSockets,
      shuttingDown: () => admission.closing,
      metricsToken: options.metricsToken,
      writesRefused: () =>
        quota.diskFull
          ? "the server's disk is nearly full: messages are refused"
          : undefined,
    }),
    onUnexpectedError: (error, request) =>
      logger.error("request.failed", {
        path: new URL(request.url).pathname,
        error,
      }),
  });
  let nextConnectionId = 1;
  let inFlight = 0;
  /** Made only while shutdown waits, so a request costs no promise. */
  let drained: PromiseWithResolvers<void> | undefined;

  const socketLimits: SocketLimits = {
    largestFrameBytes: (options.maxFrameBytes ?? 65536) * FAR_OVER_FACTOR,
    maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    idleTimeoutSeconds: options.idleTimeoutSeconds ?? 30,
    headerTimeoutSeconds: options.headerTimeoutSeconds ?? 10,
  };

  return {
    chat,
    logger,
    retention,
    socketLimits,
    trustedProxies: new TrustedProxies(options.trustProxy),
    async handleHttp(request, clientIp) {
      inFlight++;
      try {
        return await handleHttp(request, clientIp);
      } finally {
        if (--inFlight === 0) drained?.resolve();
      }
    },
    admit(clientIp) {
      const refused = admission.admit(clientIp);
      if (!refused) return { leave: admission.enter(clientIp) };
      countRefusal(clientIp ?? "a trusted proxy", refused);
      return { refused };
    },
    admitAddress(clientIp) {
      const refused = admission.admitAddress(clientIp);
      if (!refused) return { leave: admission.enterAddress(clientIp) };
      countRefusal(clientIp, refused);
      return { refused };
    },
    refuseUpgrade(request, clientIp) {
      const refusal = admission.check(request.headers.get("origin"));
      if (!refusal) return refuseHandshake(request);
      countRefusal(clientIp, refusal);
      return jsonResponse({ error: refusal.error }, refusal.status);
    },
    connect(peer, clientIp) {
      return new Connection(chat, peer, {
        id: nextConnectionId++,
        clientIp,
        maxFrameBytes: options.maxFrameBytes,
        maxRooms: options.maxRoomsPerConnection,
        rateLimit,
        ipLimiter,
        quota,
        floodCloseMs: options.floodCloseMs,
        maxBufferedBytes: socketLimits.maxBufferedBytes,
        logger,
        onClose: admission.enterWebSocket(),
      });
    },
    beginShutdown: () => admission.close(),
    async drain(timeoutMs) {
      if (inFlight === 0) return;
      drained = Promise.withResolvers();
      await waitAtMost(drained.promise, timeoutMs);
    },
    async close() {
      disk?.stop();
      await retention.stop();
      await chat.bus.close();
      await chat.store.close();
    },
  };
}

/**
 * Logs refused connections, at most one line a second with the number
 * refused since the last one: a flood of connections must not become a
 * flood of log lines.
 */
class RefusalLog {
  readonly #logger: Logger;
  #loggedAt = -Infinity;
  #unlogged = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  note(ip: string, refusal: Refusal): void {
    this.#unlogged++;
    const now = performance.now();
    if (now - this.#loggedAt < 1000) return;
    this.#logger.warn("connection.refused", {
      ip,
      reason: refusal.reason,
      refused: this.#unlogged,
    });
    this.#loggedAt = now;
    this.#unlogged = 0;
  }
}
