/**
 * The chat page in a real browser (Chromium) against a real server: two
 * pages chatting, history, members, several rooms, text that looks like
 * HTML, error frames, reconnecting after the server restarts, the layout,
 * and how little the page asks the REST API; and two pages on two instances
 * behind nginx.
 *
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
} from "node:assert/strict";
import type { Browser, Page } from "npm:playwright-core@1.65.1";
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
import { openClient, within } from "./_helpers.ts";

/** Whether Chromium is there (asked once: it warns loudly when it is not). */
const ENABLED = browserTestsEnabled();

/** How long the page may take to show something. */
const PAGE_MS = 5000;
/** The page's shortest time between two asks of a list (public/app.js). */
const ASK_GAP_MS = 5000;
/** How often a visible page asks for the list of rooms (public/app.js). */
const ROOM_NAMES_EVERY_MS = 30_000;

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

/**
 * Runs `use` with a new page in a new browser, next to a new server (memory
 * store), and closes both after.
 */
async function withPage(
  use: (page: Page, server: ChatServer) => Promise<void>,
): Promise<void> {
  const server = await startChat(0, new MemoryStore());
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(PAGE_MS);
    await use(page, server);
  } finally {
    await browser.close();
    await server.shutdown();
  }
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
        // Bob is not in "random": the list is asked again when his page
        // comes back into view.
        await bob.evaluate(() => dispatchEvent(new Event("focus")));
        await until(
          () => rooms.getByRole("listitem").allTextContents(),
          ["general", "random"],
          PAGE_MS + ASK_GAP_MS,
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
        // The error pushes nothing out of view on a laptop's screen.
        await ann.setViewportSize({ width: 1200, height: 800 });
        const send = await ann.getByRole("button", { name: "Send" })
          .boundingBox();
        assert(
          send && send.y >= 0 && send.y + send.height <= 800,
          JSON.stringify(send),
        );
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
        "says a message is not sent while offline, until it is back",
        async () => {
          await server.shutdown();
          await ann.getByRole("status").getByText("Disconnected").waitFor();
          await say(ann, "Into the void");
          const alert = ann.getByRole("alert");
          await alert.getByText("Not sent: this room is not connected")
            .waitFor();
          server = await startChat(port, store);
          await ann.getByRole("status").getByText("Connected").waitFor();
          await ann.getByRole("button", { name: "general", exact: true })
            .waitFor();
          await alert.waitFor({ state: "hidden" });
        },
      );

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
  fn: () =>
    withPage(async (page, server) => {
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
    }),
});

Deno.test({
  name: "the chat page joins once a room joined while it connects",
  ignore: !ENABLED,
  fn: () =>
    withPage(async (page, server) => {
      // The page asks /asyncapi.json once its socket is open; hold the
      // answer, and join meanwhile.
      const answer = Promise.withResolvers<void>();
      await page.route("**/asyncapi.json", async (route) => {
        await answer.promise;
        await route.continue();
      });
      const joins: unknown[] = [];
      const connected = Promise.withResolvers<void>();
      await page.routeWebSocket(/./, (socket) => {
        connected.resolve();
        socket.onMessage((text) => {
          const frame = JSON.parse(String(text));
          joins.push(frame);
          socket.send(JSON.stringify({ ...frame, type: "join-room" }));
        });
      });
      await page.goto(`http://127.0.0.1:${server.addr.port}/`);
      await within(connected.promise, "the page to connect");
      await join(page, "Bob", "general");
      answer.resolve();
      await page.getByRole("status").getByText("Connected").waitFor();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assertEquals(joins, [
        { type: "join-room", room_id: "general", from: "Bob" },
      ]);
    }),
});

/** Counts the page's requests whose path and query match. */
function countRequests(page: Page, matches: (url: URL) => boolean) {
  const seen: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (matches(url)) seen.push(url.pathname + url.search);
  });
  return seen;
}

Deno.test({
  name: "the chat page asks the REST API sparingly",
  ignore: !ENABLED,
  fn: (t) =>
    withPage(async (page, server) => {
      const url = `http://127.0.0.1:${server.addr.port}/`;
      const guests: Awaited<ReturnType<typeof openClient>>[] = [];
      await using _ = {
        async [Symbol.asyncDispose]() {
          for (const guest of guests) await guest.close();
        },
      };
      const roomLists = countRequests(page, (url) => url.pathname === "/rooms");
      const memberLists = countRequests(
        page,
        (url) => url.pathname === "/rooms/crowd",
      );
      // The page's clock is Playwright's, so that 30 s pass in a moment.
      await page.clock.install();
      await page.goto(url);
      await page.getByRole("status").getByText("Connected").waitFor();

      await t.step("says when no room has messages", async () => {
        await page.getByText("No room has messages yet").waitFor();
        assertEquals(roomLists, ["/rooms?limit=100"]);
      });

      await t.step("asks for the rooms every 30 s, not more", async () => {
        await page.clock.runFor(ROOM_NAMES_EVERY_MS - 1000);
        assertEquals(roomLists.length, 1);
        await page.clock.runFor(2000);
        await until(() => Promise.resolve(roomLists.length), 2);
      });

      await t.step("reads a page of rooms, whatever else it says", async () => {
        await page.route("**/rooms?limit=100", (route) =>
          route.fulfill({
            json: { rooms: ["a", "b"], has_more: true, next: "b", x: 1 },
          }));
        await page.clock.runFor(ROOM_NAMES_EVERY_MS);
        const rooms = page.getByRole("list", { name: "Rooms with messages" });
        await until(() => rooms.getByRole("listitem").allTextContents(), [
          "a",
          "b",
        ]);
        await page.getByText("And more").waitFor();
        assert(await page.getByText("No room has messages").isHidden());
        await page.unroute("**/rooms?limit=100");
      });

      await t.step(
        "keeps a busy room's members without a request each",
        async () => {
          await join(page, "Ann", "crowd");
          await until(() => members(page), ["Ann"]);
          const asked = memberLists.length;
          for (let i = 0; i < 20; i++) {
            const guest = await openClient(
              `ws://127.0.0.1:${server.addr.port}`,
            );
            guests.push(guest);
            await guest.join("crowd", `Guest ${i}`);
          }
          await until(() => members(page).then((names) => names.length), 21);
          for (const guest of guests.splice(0, 10)) await guest.close();
          await until(() => members(page).then((names) => names.length), 11);
          // 30 joins and leaves in all, and at most one ask per gap.
          await page.clock.runFor(ASK_GAP_MS);
          await until(() => members(page).then((names) => names.length), 11);
          assert(memberLists.length - asked <= 2, memberLists.join(", "));
        },
      );
    }),
});

Deno.test({
  name:
    "the chat page through nginx in front of two instances on Redis (deno task cluster)",
  ignore: !ENABLED || !clusterTestsEnabled(),
  async fn() {
    await using cluster = await startClusterScript(2);
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
