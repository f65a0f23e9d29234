/**
 * Debian's Chromium, driven by playwright-core, for the tests of the chat
 * page. Playwright's own browser downloads are not used: `.ci/run` installs
 * the `chromium` package.
 *
 * @module
 */
import { type Browser, chromium } from "npm:playwright-core@1.65.1";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Where screenshots go (git-ignored). */
export const SCREENSHOT_DIR = new URL("../test-results/", import.meta.url);

/**
 * Whether the browser tests run. Without Chromium they are skipped with a
 * loud warning on a developer's machine, but fail in CI (`CI=true`), where
 * `.ci/run` must have installed it.
 */
export function browserTestsEnabled(): boolean {
  let installed = false;
  try {
    installed = Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    // not installed
  }
  if (installed || Deno.env.get("CI") === "true") return true;
  console.error(
    [
      "",
      "!".repeat(76),
      `!! SKIPPING THE BROWSER TESTS: no Chromium at ${CHROMIUM_PATH}.`,
      "!! Install it with:  apt-get install -y chromium   (CI does this itself)",
      "!".repeat(76),
      "",
    ].join("\n"),
  );
  return false;
}

/** Starts a headless Chromium with a fresh profile and no network chatter. */
export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      // Playwright gives every launch a fresh temporary profile. The other
      // flags keep Chromium from calling home (updates, sync, field trials),
      // which would only time out on a closed network.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      timeout: 30_000,
    });
  } catch (error) {
    throw new Error(
      `Could not start Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`,
      { cause: error },
    );
  }
}
