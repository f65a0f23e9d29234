/**
 * Control characters made visible, so that text from a client cannot drive
 * the terminal it is printed on: clear the screen, set the window's title,
 * move the cursor to rewrite earlier lines, start new lines that look like
 * someone else's, or reverse the direction of what follows.
 *
 * @module
 */

/**
 * The characters a terminal may act on rather than show: C0 controls
 * (newline, escape...), DEL, C1 controls (U+009B starts an escape sequence
 * in some terminals), the line and paragraph separators, and the
 * bidirectional formatting characters (which reorder the rest of the line
 * as it is shown). A global pattern, for `replace()`.
 */
export const CONTROL_CHARACTERS: RegExp =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * Replaces every control character with a visible escape: `\n`, `\r`, `\t`,
 * `\x1b` (two hex digits below U+0100) or `\u202e`.
 *
 * @example
 * ```ts
 * escapeControls("hi\x1b[2J\u202Eevil"); // "hi\\x1b[2J\\u202eevil"
 * ```
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (char) => {
    const named = NAMED[char];
    if (named !== undefined) return named;
    const code = char.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
