/**
 * The server for Bun: `main.ts` bundled into one JavaScript file by
 * `deno bundle`, which Bun runs as it is or compiles into a standalone
 * executable (`bun build --compile`). Both work offline once Bun is there.
 *
 * ```sh
 * deno task compile:bun            # dist/chat-server-bun, one file, nothing else needed
 * deno task start:bun --port 8080  # the bundle on Bun, with the usual flags
 * ```
 *
 * Bun is the `bun` on the PATH (`npm install -g bun@1.4.5`), or else the
 * pinned one that `npx` fetches once from the npm registry.
 *
 * The benchmark (`scripts/bench/servers.ts`) runs the bundle on the Bun
 * executable that {@linkcode findBun} finds, so that it measures that process.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** Where the builds go (git-ignored). */
export const DIST = new URL("../dist/", import.meta.url).pathname;
/** The bundle that Bun runs. */
export const BUNDLE = `${DIST}chat-server.js`;
/** The standalone executable that Bun compiles. */
export const BUN_EXECUTABLE = `${DIST}chat-server-bun`;

/** The Bun that `npx` fetches when there is none on the PATH. */
export const BUN_PACKAGE = "bun@1.4.5";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

let bunPath: Promise<string> | undefined;

/**
 * The path of a Bun executable: the `bun` on the PATH, or else the one
 * `npx` keeps in its cache (fetched from the npm registry the first time).
 */
export function findBun(): Promise<string> {
  return bunPath ??= (async () => {
    const askBun = ["-e", "console.log(process.execPath)"];
    const onPath = await output("bun", askBun).catch(() => undefined);
    if (onPath) return onPath;
    return await output("npx", ["-y", BUN_PACKAGE, ...askBun]);
  })();
}

/**
 * Bundles `main.ts` and its dependencies for Bun: `outFile`, and beside it
 * the chunks that only some runs load (`open_redis-*.js`, with the
 * Redis client, is loaded only with `--redis`, so that a server without it
 * does not pay for parsing it).
 */
export async function bundleServer(outFile = BUNDLE): Promise<void> {
  const dir = dirname(outFile);
  await Deno.mkdir(dir, { recursive: true }); // a fresh clone has no dist/
  const build = await Deno.makeTempDir({ dir, prefix: ".bundle-" });
  try {
    await output(Deno.execPath(), [
      "bundle",
      "--quiet",
      "--platform=deno",
      "--code-splitting",
      `--outdir=${build}`,
      MAIN,
    ]);
    // Chunks of earlier builds have other hashes in their names.
    for await (const entry of Deno.readDir(dir)) {
      if (CHUNK.test(entry.name)) await Deno.remove(join(dir, entry.name));
    }
    for await (const entry of Deno.readDir(build)) {
      const to = entry.name === "main.js" ? outFile : join(dir, entry.name);
      await Deno.rename(join(build, entry.name), to);
    }
  } finally {
    await Deno.remove(build, { recursive: true });
  }
}

/** The name of a chunk that `deno bundle --code-splitting` writes. */
const CHUNK = /^[\w-]+-[A-Z0-9]{8}\.js$/;

/** Bundles the server and compiles the bundle into a Bun executable. */
export async function compileWithBun(
  outFile = BUN_EXECUTABLE,
  bundle = BUNDLE,
): Promise<void> {
  await bundleServer(bundle);
  await output(await findBun(), [
    "build",
    "--compile",
    // Keeps the chunks apart inside the executable, loaded when imported.
    "--splitting",
    `--outfile=${outFile}`,
    bundle,
  ]);
}

/**
 * The command that runs the bundled server on Bun: add the server's flags
 * and spawn it. The bundle is built first.
 *
 * @example
 * ```ts
 * const [command, ...args] = await bunServerCommand();
 * const server = new Deno.Command(command, {
 *   args: [...args, "--port", "0", "--rate-limit", "0"],
 *   stdout: "piped",
 * }).spawn(); // prints "WebSocket: ws://localhost:PORT" once it listens
 * ```
 */
export async function bunServerCommand(): Promise<string[]> {
  await bundleServer();
  return [await findBun(), BUNDLE];
}

/** Runs a command to its end; its trimmed stdout, or an error with stderr. */
async function output(command: string, args: string[]): Promise<string> {
  const result = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!result.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${decoder.decode(result.stderr)}`,
    );
  }
  return decoder.decode(result.stdout).trim();
}

/**
 * Runs the bundled server on Bun until it exits, passing on the signals
 * that stop it, and exits with its code.
 */
async function startOnBun(args: string[]): Promise<never> {
  const [command, ...bundle] = await bunServerCommand();
  const server = new Deno.Command(command!, { args: [...bundle, ...args] })
    .spawn();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => server.kill(signal));
  }
  Deno.exit((await server.status).code);
}

if (import.meta.main) {
  const [what, ...args] = Deno.args;
  if (what === "compile") {
    await compileWithBun();
    const { size } = await Deno.stat(BUN_EXECUTABLE);
    console.log(`${BUN_EXECUTABLE}: ${(size / 2 ** 20).toFixed(1)} MiB`);
  } else if (what === "start") await startOnBun(args);
  else {
    console.error(
      "usage: deno run -A scripts/bun_build.ts compile | start [flags]",
    );
    Deno.exit(2);
  }
}
