import { Chat } from "./chat.ts";
import { type Connection, openConnection } from "./connection.ts";
import { createRestHandler } from "./http/rest_handler.ts";
import type { Peer } from "./peer.ts";
import { Retention, type RetentionOptions } from "./retention.ts";
import { MemoryStore } from "./store/memory.ts";
import type { MessageStore } from "./store/store.ts";

/** Options of {@linkcode createChatApp}. */
export interface ChatAppOptions {
  /**
   * Where messages are kept.
   * @default {new MemoryStore()}
   */
  store?: MessageStore | undefined;
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
}

/**
 * The whole chat server without its runtime: what a runtime adapter needs
 * to serve it.
 */
export interface ChatApp {
  /** The shared chat state. */
  readonly chat: Chat;
  /** Prunes the store in the background; `prune()` runs a pass at once. */
  readonly retention: Retention;
  /** Answers a plain HTTP request (the REST API). */
  handleHttp(request: Request): Promise<Response>;
  /** Starts serving a newly upgraded WebSocket. */
  connect(peer: Peer): Connection;
  /** Stops pruning, then closes the store. */
  close(): Promise<void>;
}

/** Builds the chat server from its parts. */
export function createChatApp(options: ChatAppOptions = {}): ChatApp {
  const chat = new Chat({
    store: options.store ?? new MemoryStore(),
    joinHistory: options.joinHistory,
    pageMax: options.pageMax,
  });
  const retention = new Retention(chat.store, options.retention);
  retention.start();
  const handleHttp = createRestHandler(chat, {
    maxBodyBytes: options.maxBodyBytes,
  });
  const maxFrameBytes = options.maxFrameBytes;
  return {
    chat,
    retention,
    handleHttp,
    connect: (peer) => openConnection(chat, peer, { maxFrameBytes }),
    async close() {
      await retention.stop();
      await chat.store.close();
    },
  };
}
