/**
 * The chat page in a real browser (Debian's Chromium) against a real server:
 * two pages chatting, history, members, several rooms, text that looks like
 * HTML, error frames, and reconnecting after the server restarts; and two
 * pages on two instances behind nginx.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { ChatServer } from "../lib/adapters/chat_server.ts";
import { serveChat } from "../lib/adapters/serve_chat.ts";
import { MemoryStore } from "../lib/store/memory.ts";
import type { MessageStore } from "../lib/store/store.ts";
import {
  browserTestsEnabled,
  launchChromium,
  SCREENSHOT_DIR,
} from "./_chromium.ts";
import {
  assertOneConnectionEach,
  clusterTestsEnabled,
  startClusterScript,
} from "./_cluster.ts";
import { within } from "./_helpers.ts";

/** Whether Chromium is there (asked once: it warns loudly when it is not). */
const ENABLED = browserTestsEnabled();

/** How long the page may take to show something. */
const PAGE_MS = 5000;
/** How often the page fetches the list of rooms (ROOM_LIST_REFRESH_MS). */
const ROOM_LIST_REFRESH_MS = 3000;

/** Keeps its messages when the server shuts down, like a database would. */
class DurableMemoryStore extends MemoryStore {
  override close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Starts a chat server on 127.0.0.1 (port 0 picks a free one). */
async function startChat(
  port: number,
  store: MessageStore,
): Promise<ChatServer> {
  const listening = Promise.withResolvers<void>();
  const server = serveChat({
    hostname: "127.0.0.1",
    port,
    store,
    onListen: () => listening.resolve(),
  });
  await within(listening.promise, "the server to listen");
  return server;
}

/** Opens the chat page in a new browser context and joins a room. */
async function openChat(
  browser: Browser,
  url: string,
  name: string,
  room: string,
): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_MS);
  page.on("pageerror", (error) => {
    throw new Error(`error in the page of ${name}: ${error.message}`);
  });
  await page.goto(url);
  await page.getByRole("status").getByText("Connected").waitFor();
  await join(page, name, room);
  return page;
}

/** Joins a room with the form, pressing Enter, as a keyboard user would. */
async function join(page: Page, name: string, room: string): Promise<void> {
  await page.getByLabel("Your name", { exact: true }).fill(name);
  await page.getByLabel("Room", { exact: true }).fill(room);
  await page.getByLabel("Room", { exact: true }).press("Enter");
  await messages(page).getByText(`You joined as ${name}`).last().waitFor();
}

/** Types a message and presses Enter. */
async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel("Message", { exact: true }).fill(text);
  await page.getByLabel("Message", { exact: true }).press("Enter");
}

function messages(page: Page) {
  return page.locator("#messages");
}

/** The texts of the open room's messages (without notices). */
function messageTexts(page: Page): Promise<string[]> {
  return messages(page).locator("li:not(.notice) p").allTextContents();
}

/** Waits until `read` returns what is expected. */
async function until<T>(
  read: () => Promise<T>,
  expected: T,
  ms = PAGE_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  let actual = await read();
  while (JSON.stringify(actual) !== JSON.stringify(expected)) {
    if (Date.now() > deadline) assertEquals(actual, expected);
    await new Promise((resolve) => setTimeout(resolve, 50));
    actual = await read();
  }
}

async function lastNotice(page: Page): Promise<string | undefined> {
  return (await messages(page).locator("li.notice").allTextContents()).at(-1);
}

/** The open room's member list, sorted (its order is the joining order). */
async function members(page: Page): Promise<string[]> {
  return (await page.locator("#members li").allTextContents()).sort();
}

Deno.test({
  name: "the chat page in Chromium",
  ignore: !ENABLED,
  async fn(t) {
    const store = new DurableMemoryStore();
    let server = await startChat(0, store);
    const { port } = server.addr;
    const url = `http://127.0.0.1:${port}/`;
    /** Restarts the server on its port; the pages must rejoin "general". */
    async function restart(pages: Page[], store: MessageStore) {
      await server.shutdown();
      for (const page of pages) {
        await page.getByRole("status").getByText("Disconnected").waitFor();
      }
      server = await startChat(port, store);
      for (const page of pages) {
        await page.getByRole("status").getByText("Connected").waitFor();
        // "general (joining…)" until the server confirms the rejoin
        await page.getByRole("button", { name: "general", exact: true })
          .waitFor();
      }
    }

    const browser = await launchChromium();
    try {
      const ann = await openChat(browser, url, "Ann", "general");
      const bob = await openChat(browser, url, "Bob", "general");

      await t.step("lists who is in the room as they join", async () => {
        await until(() => members(ann), ["Ann", "Bob"]);
        await until(() => members(bob), ["Ann", "Bob"]);
        await messages(ann).getByText("Bob joined").waitFor();
      });

      await t.step("two pages chat both ways", async () => {
        await say(ann, "Hi Bob!");
        await say(bob, "Hello Ann");
        for (const page of [ann, bob]) {
          await until(() => messageTexts(page), ["Hi Bob!", "Hello Ann"]);
        }
      });

      await t.step("shows HTML in a message as text", async () => {
        const html = `<img src=x onerror="document.title='pwned'"><b>bold?</b>`;
        await say(bob, html);
        await messages(ann).getByText(html).waitFor();
        assertEquals(await messages(ann).locator("img, b").count(), 0);
        assert(!(await ann.title()).includes("pwned"));
      });

      await t.step("shows the history after a reload", async () => {
        await bob.reload();
        await join(bob, "Bob", "general");
        await until(() => messageTexts(bob), [
          "Hi Bob!",
          "Hello Ann",
          `<img src=x onerror="document.title='pwned'"><b>bold?</b>`,
        ]);
      });

      await t.step(
        "joins a second room and switches between them",
        async () => {
          await join(ann, "Ann", "random");
          await say(ann, "Anyone in random?");
          await until(() => messageTexts(ann), ["Anyone in random?"]);
          await until(() => members(ann), ["Ann"]);
          await say(bob, "Still here");
          await ann.getByRole("button", { name: "general (1 new)" }).click();
          const general = ann.getByRole("button", {
            name: "general",
            exact: true,
          });
          await until(() => messageTexts(ann), [
            "Hi Bob!",
            "Hello Ann",
            `<img src=x onerror="document.title='pwned'"><b>bold?</b>`,
            "Still here",
          ]);
          assertEquals(await general.getAttribute("aria-current"), "true");
        },
      );

      await t.step("lists the rooms that hold messages", async () => {
        const rooms = bob.getByRole("list", { name: "Rooms with messages" });
        // Bob is not in "random": only the list's refresh can show it.
        await until(
          () => rooms.getByRole("listitem").allTextContents(),
          ["general", "random"],
          PAGE_MS + ROOM_LIST_REFRESH_MS,
        );
      });

      await t.step("shows an error frame in plain words", async () => {
        // The field's maxlength stops a long message; remove it to get the
        // server's own answer.
        await ann.getByLabel("Message", { exact: true }).evaluate((input) =>
          input.removeAttribute("maxlength")
        );
        await say(ann, "x".repeat(5001));
        await ann.getByRole("alert").getByText(
          "The server refused that: message must be at most 5000 characters",
        ).waitFor();
        await say(ann, "Sorry, too long");
        await ann.getByRole("alert").waitFor({ state: "hidden" });
      });

      await t.step("updates the members when someone leaves", async () => {
        await bob.getByRole("button", { name: "Leave general" }).click();
        await until(() => lastNotice(ann), "Bob left");
        await until(() => members(ann), ["Ann"]);
        await join(bob, "Bob", "general");
        await until(() => members(ann), ["Ann", "Bob"]);
      });

      await t.step(
        "reconnects after a restart, without duplicates",
        async () => {
          await restart([ann, bob], store);
          // The store was kept: the history sent on the rejoin is dropped.
          await say(bob, "After the restart");
          await until(() => messageTexts(ann), [
            "Hi Bob!",
            "Hello Ann",
            `<img src=x onerror="document.title='pwned'"><b>bold?</b>`,
            "Still here",
            "Sorry, too long",
            "After the restart",
          ]);
          await until(() => members(ann), ["Ann", "Bob"]);
          assertEquals(await ann.getByRole("alert").isHidden(), true);
        },
      );

      await t.step(
        "takes ids starting over after a memory restart",
        async () => {
          await restart([ann, bob], new MemoryStore());
          await say(bob, "New server, id 1 again");
          await messages(ann).getByText("New server, id 1 again").waitFor();
        },
      );

      await t.step("saves screenshots", async () => {
        await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
        await ann.setViewportSize({ width: 1100, height: 700 });
        await ann.screenshot({
          path: new URL("chat.png", SCREENSHOT_DIR).pathname,
        });
        await bob.setViewportSize({ width: 375, height: 800 });
        await bob.screenshot({
          path: new URL("chat-phone.png", SCREENSHOT_DIR).pathname,
          fullPage: true,
        });
      });
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "the chat page resumes with since when the server takes it",
  ignore: !ENABLED,
  async fn() {
    const server = await startChat(0, new MemoryStore());
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(PAGE_MS);
      // Pretend the server's contract has `since` (the durable-history
      // server's will): the page learns it from /asyncapi.json.
      await page.route("**/asyncapi.json", async (route) => {
        const response = await route.fetch();
        const api = await response.json();
        api.components.schemas.JoinRoomFrame.properties.since = {
          type: "integer",
        };
        await route.fulfill({ response, json: api });
      });
      // A fake WebSocket server: the first connection sends messages 5 and
      // 6, then drops; the second sends 6 again, and 7.
      const joins: unknown[] = [];
      await page.routeWebSocket(/./, (socket) => {
        const history = joins.length === 0 ? [5, 6] : [6, 7];
        const dropAfterJoin = joins.length === 0;
        socket.onMessage((text) => {
          const frame = JSON.parse(String(text));
          joins.push(frame);
          for (const id of history) {
            socket.send(JSON.stringify({
              type: "receive-message",
              room_id: "general",
              from: "Ann",
              message: `message ${id}`,
              sent_at: 1_700_000_000 + id,
              id,
            }));
          }
          socket.send(JSON.stringify({ ...frame, type: "join-room" }));
          if (dropAfterJoin) socket.close();
        });
      });

      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      await join(page, "Bob", "general");
      await messages(page).getByText("Reconnected").waitFor();
      assertEquals(joins, [
        { type: "join-room", room_id: "general", from: "Bob" },
        { type: "join-room", room_id: "general", from: "Bob", since: 6 },
      ]);
      assertEquals(await messageTexts(page), [
        "message 5",
        "message 6",
        "message 7",
      ]);
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});

Deno.test({
  name:
    "the chat page through nginx in front of two instances on Redis (deno task cluster)",
  ignore: !ENABLED || !clusterTestsEnabled(),
  async fn() {
    await using cluster = await startClusterScript([
      "--instances",
      "2",
      "--port",
      "0",
    ]);
    const url = `${cluster.url}/`;
    const browser = await launchChromium();
    try {
      const ann = await openChat(browser, url, "Ann", "general");
      const bob = await openChat(browser, url, "Bob", "general");
      // nginx gave each page's WebSocket to another instance.
      await assertOneConnectionEach(cluster.instances);
      await until(() => members(ann), ["Ann", "Bob"]);
      await until(() => members(bob), ["Ann", "Bob"]);
      await say(ann, "Hi Bob, from the first instance");
      await say(bob, "Hello Ann, from the second");
      for (const page of [ann, bob]) {
        await until(() => messageTexts(page), [
          "Hi Bob, from the first instance",
          "Hello Ann, from the second",
        ]);
      }
    } finally {
      await browser.close();
    }
  },
});
