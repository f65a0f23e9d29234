/**
 * Runs the test suite (`deno test`) and prints a short summary: Deno's own
 * summary line when every test passes; the failing tests' output, the
 * errors and the failures when some fail. The whole output, with what
 * passing tests printed and what their servers logged, goes to
 * `test-results/test-output.txt` as the tests run.
 *
 * ```sh
 * deno task test                      # fmt, lint and type checks, then this
 * deno task test tests/main_test.ts   # files or flags are passed to deno test
 * ```
 *
 * Lines that start with `!!` are warnings meant for the reader (browser
 * tests skipped for want of Chromium, say): they are always shown.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname;

/** Where the whole output goes (git-ignored). */
export const OUTPUT_FILE = "test-results/test-output.txt";

/** `deno check` has checked the types already, so the tests skip it. */
const DENO_TEST = [
  "test",
  "--no-check",
  `--lock=${ROOT}tests/deno.lock`,
  "--allow-all",
  "--trace-leaks",
  // Test files in parallel, one per CPU: most of the suite waits on
  // servers, sockets and timeouts, not on the CPU.
  "--parallel",
];

/** What `deno test` printed. */
export interface TestOutput {
  stdout: string;
  stderr: string;
  passed: boolean;
}

/** The lines the console shows of a finished `deno test` run. */
export function summarize({ stdout, stderr, passed }: TestOutput): string[] {
  const lines = [stdout, stderr].filter((text) => text !== "").join("\n")
    .trimEnd().split("\n").map((line) => line.trimEnd());
  const plain = lines.map(stripColors);
  const pick = (test: (line: string) => boolean) =>
    lines.filter((_, i) => test(plain[i]!));
  const warnings = pick((line) => line.startsWith("!!"));
  if (passed) return [...warnings, ...pick(isSummary)];
  const found = plain.findIndex((line) => line.trim() === "ERRORS");
  const errors = found === -1 ? lines.length : found;
  return [
    ...warnings,
    ...failedTestBlocks(lines.slice(0, errors), plain.slice(0, errors)),
    // Deno's errors, failures and summary; or, when it stopped before
    // running the tests, the end of what it said.
    ...(found === -1 ? lines.slice(-40) : lines.slice(errors)),
  ];
}

function isSummary(line: string): boolean {
  return /^(ok|FAILED) \| /.test(line);
}

/**
 * What the reporter printed for each failed test, from its name to its
 * result: its steps and the output it captured.
 */
function failedTestBlocks(lines: string[], plain: string[]): string[] {
  const failed = new Set(
    plain.flatMap((line) => /^(\S.*) \.\.\. FAILED\b/.exec(line)?.[1] ?? []),
  );
  const shown: string[] = [];
  let name: string | undefined;
  let start = 0;
  plain.forEach((line, i) => {
    if (name === undefined) {
      name = /^(\S.*?) \.\.\.( |$)/.exec(line)?.[1];
      start = i;
    }
    if (name !== undefined && line.startsWith(`${name} ... `)) {
      if (failed.has(name)) shown.push(...lines.slice(start, i + 1), "");
      name = undefined;
    }
  });
  return shown;
}

function stripColors(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** Runs `deno test` with `args` added; resolves to its exit code. */
async function runTests(args: string[]): Promise<number> {
  await Deno.mkdir(`${ROOT}test-results`, { recursive: true });
  const file = await Deno.open(`${ROOT}${OUTPUT_FILE}`, {
    write: true,
    create: true,
    truncate: true,
  });
  // One writer for both streams: it writes their chunks in turn, whole.
  const log = file.writable.getWriter();
  console.log(`deno test: the whole output goes to ${OUTPUT_FILE}`);
  const child = new Deno.Command(Deno.execPath(), {
    args: [...DENO_TEST, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const encoder = new TextEncoder();
  async function record(stream: ReadableStream<Uint8Array>): Promise<string> {
    let text = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      await log.write(encoder.encode(chunk));
    }
    return text;
  }
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    record(child.stdout),
    record(child.stderr),
  ]);
  await log.close();
  for (const line of summarize({ stdout, stderr, passed: status.success })) {
    console.log(line);
  }
  if (!status.success) console.log(`(the whole output: ${OUTPUT_FILE})`);
  return status.code;
}

if (import.meta.main) Deno.exit(await runTests(Deno.args));
