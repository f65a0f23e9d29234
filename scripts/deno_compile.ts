/**
 * `deno task compile`: `deno compile` of `main.ts` into `dist/chat-server`,
 * with the permissions `deno task start` has. Deno downloads its runtime for
 * executables (`denort`) the first time; when it cannot, this says so in one
 * line and points to `deno task compile:bun`, which needs no network.
 *
 * @module
 */
import { DIST } from "./bun_build.ts";

/** The executable `deno compile` writes. */
export const DENO_EXECUTABLE = `${DIST}chat-server`;

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * What went wrong, in one line, when `deno compile` failed for want of its
 * runtime; `undefined` for any other failure, whose own words are best.
 */
export function compileProblem(stderr: string): string | undefined {
  const denortFile = /Could not find denort at '([^']+)'/.exec(stderr)?.[1];
  if (denortFile) {
    return `DENORT_BIN names "${denortFile}", which does not exist: ` +
      `point it at Deno's runtime for executables (denort), or unset it`;
  }
  const download = /(https:\/\/\S*denort\S*?)\)?:/.exec(stderr)?.[1];
  if (download || /Setting up base binary/.test(stderr)) {
    const where = download ? ` (${download})` : "";
    return `deno compile could not download Deno's runtime for executables` +
      `${where}; it needs the network once. Without it, build with Bun: ` +
      `deno task compile:bun`;
  }
  return undefined;
}

async function compile(): Promise<number> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-sys=statfs",
      `--output=${DENO_EXECUTABLE}`,
      MAIN,
    ],
    stdin: "null",
  }).output();
  const errors = new TextDecoder().decode(stderr);
  await Deno.stdout.write(stdout);
  if (code === 0) {
    const { size } = await Deno.stat(DENO_EXECUTABLE);
    console.log(`${DENO_EXECUTABLE}: ${(size / 2 ** 20).toFixed(1)} MiB`);
    return 0;
  }
  const problem = compileProblem(errors);
  if (problem === undefined) await Deno.stderr.write(stderr);
  else console.error(`error: ${problem}`);
  return 1;
}

if (import.meta.main) Deno.exit(await compile());
