/**
 * Parses an HTTP `Retry-After` header (RFC 9110 §10.2.3): either delay-seconds
 * or an HTTP-date. Returns the delay in milliseconds (0 for a date in the
 * past), or undefined when the header is absent or malformed.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header == null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form starts with a day name. Requiring it keeps Date.parse,
  // which is very lenient, from turning values such as "1.5" into dates.
  if (!/^[A-Za-z]{3,9},?\s/.test(text)) return undefined;
  // The obsolete asctime form carries no zone but is defined to be GMT.
  const at = Date.parse(/\b(GMT|UTC)\b/i.test(text) ? text : `${text} GMT`);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - nowMs);
}
