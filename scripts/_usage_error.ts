/**
 * Command-line mistakes in the scripts: the script prints the message and
 * its usage, without a stack trace, and exits with 2.
 *
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { escapeControls } from "../lib/escape_controls.ts";

/** A command-line argument a script cannot use. */
export class UsageError extends Error {
  /** Creates the error with the message the user will read. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The values of `args` for these options (no positional arguments).
 *
 * @throws {UsageError} for an unknown option or a missing value
 */
export function parseFlags<const O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * The options `parse` reads from the command line. A mistake is printed
 * with the usage and ends the script with 2; `--help` (`parse` returns
 * `undefined`) prints the usage and ends it with 0.
 */
export function optionsOrExit<T>(
  parse: (args: string[]) => T | undefined,
  usage: string,
): T {
  let options;
  try {
    options = parse(Deno.args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`error: ${escapeControls(error.message)}\n\n${usage}`);
    Deno.exit(2);
  }
  if (options === undefined) {
    console.log(usage);
    Deno.exit(0);
  }
  return options;
}

/**
 * The values of `names` in `values`, each a whole number of at least 1.
 *
 * @throws {UsageError} for a value that is not
 */
export function wholeNumbers<const N extends string>(
  values: Record<string, unknown>,
  names: readonly N[],
): Record<N, number> {
  const numbers = {} as Record<N, number>;
  for (const name of names) {
    const text = String(values[name]);
    if (!/^\d+$/.test(text) || Number(text) < 1) {
      throw new UsageError(
        `--${name} must be a whole number of at least 1, not "${text}"`,
      );
    }
    numbers[name] = Number(text);
  }
  return numbers;
}
