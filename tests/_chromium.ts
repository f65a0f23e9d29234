/**
 * A Chromium (or Chrome) already on the machine, driven by playwright-core,
 * for the tests of the chat page. Playwright's own browser downloads are not
 * needed: `.ci/run` installs Debian's `chromium` package, and
 * {@linkcode findChromium} looks in the usual places of Linux and macOS.
 *
 * @module
 */
import { type Browser, chromium } from "npm:playwright-core@1.65.1";

/** The variable that names the browser to use, when set. */
export const CHROMIUM_VARIABLE = "CHROMIUM_PATH";

/** Names of the browser's command on the PATH, most likely first. */
const COMMANDS = [
  "chromium",
  "chromium-browser",
  "google-chrome",
  "google-chrome-stable",
  "chrome",
];

/** Where packages and installers put it, when it is not on the PATH. */
const USUAL_PLACES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/lib/chromium/chromium",
  "/snap/bin/chromium",
  "/usr/bin/google-chrome",
  "/opt/google/chrome/chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

/** Where screenshots go (git-ignored). */
export const SCREENSHOT_DIR = new URL("../test-results/", import.meta.url);

/** Options of {@linkcode findChromium}, for tests. */
export interface FindChromiumOptions {
  /**
   * Reads an environment variable.
   * @default {Deno.env.get}
   */
  env?: (name: string) => string | undefined;
  /**
   * Whether a file exists and may be run.
   * @default {a check of the file's mode}
   */
  isExecutable?: (path: string) => boolean;
}

/**
 * The path of a Chromium or Chrome to drive: the one `CHROMIUM_PATH` names,
 * else the first of the usual commands on the PATH, else the first found in
 * the usual places (Linux and macOS), else the one Playwright downloaded
 * (`npx playwright-core install chromium`); `undefined` when there is none.
 */
export function findChromium(
  options: FindChromiumOptions = {},
): string | undefined {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const isExecutable = options.isExecutable ?? executable;
  const named = env(CHROMIUM_VARIABLE);
  if (named) return named;
  const onPath = (env("PATH") ?? "").split(":").filter((dir) => dir !== "")
    .flatMap((dir) => COMMANDS.map((command) => `${dir}/${command}`));
  return [...onPath, ...USUAL_PLACES, playwrightsOwn()]
    .find((path) => path !== undefined && isExecutable(path));
}

function playwrightsOwn(): string | undefined {
  try {
    return chromium.executablePath();
  } catch {
    return undefined; // this platform has no Playwright build
  }
}

function executable(path: string): boolean {
  try {
    const { isFile, mode } = Deno.statSync(path);
    return isFile && (mode === null || (mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/**
 * Whether the browser tests run. Without a browser they are skipped with a
 * loud warning on a developer's machine, but fail in CI (`CI=true`), where
 * `.ci/run` must have installed one.
 */
export function browserTestsEnabled(): boolean {
  if (findChromium() !== undefined || Deno.env.get("CI") === "true") {
    return true;
  }
  console.error(
    [
      "",
      "!".repeat(76),
      "!! SKIPPING THE BROWSER TESTS: no Chromium or Chrome found.",
      "!! Install it (Debian: apt-get install -y chromium), or name one with",
      `!! ${CHROMIUM_VARIABLE}=/path/to/chromium. CI installs it itself.`,
      "!".repeat(76),
      "",
    ].join("\n"),
  );
  return false;
}

/** Starts a headless Chromium with a fresh profile and no network chatter. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === undefined) {
    throw new Error(
      `No Chromium or Chrome found: install one (apt-get install -y chromium) or set ${CHROMIUM_VARIABLE}`,
    );
  }
  try {
    return await chromium.launch({
      executablePath,
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
      `Could not start the browser at ${executablePath} (${CHROMIUM_VARIABLE} names another)`,
      { cause: error },
    );
  }
}
