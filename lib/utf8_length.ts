/**
 * The number of bytes `text` takes in UTF-8, counted without encoding it;
 * once the count passes `limit`, some number over `limit`.
 *
 * @example
 * ```ts
 * utf8Length("€"); // 3
 * utf8Length("😀"); // 4
 * ```
 */
export function utf8Length(text: string, limit = Infinity): number {
  // Each UTF-16 unit takes at least one byte.
  if (text.length > limit) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= limit; i++) {
    const unit = text.charCodeAt(i);
    // A surrogate pair (4 bytes) is two units of 2.
    bytes += unit < 0x80
      ? 1
      : unit < 0x800 || (unit >= 0xd800 && unit < 0xe000)
      ? 2
      : 3;
  }
  return bytes;
}
