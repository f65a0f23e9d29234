import { bunGlobal } from "./_bun.ts";
import { serveChatOnBun } from "./bun_serve.ts";
import type { ChatServer, ServeChatOptions } from "./chat_server.ts";
import { serveChatOnDeno } from "./deno_serve.ts";

/**
 * Serves the chat with the adapter of the runtime it runs on: `Bun.serve`
 * on Bun, its own accept loop on Deno. Everything else, from the REST
 * routes to the store, is the same code on both.
 */
export function serveChat(options: ServeChatOptions = {}): ChatServer {
  return bunGlobal() ? serveChatOnBun(options) : serveChatOnDeno(options);
}
