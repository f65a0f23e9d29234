/**
 * The current time as unix seconds with microsecond digits, the format of the
 * seed's `sent_at` (e.g. `1730758663.598467`).
 *
 * `Date.now()` only has milliseconds, so the high-resolution clock supplies
 * the rest.
 */
export function unixSeconds(): number {
  const milliseconds = performance.timeOrigin + performance.now();
  return Math.round(milliseconds * 1000) / 1_000_000;
}
