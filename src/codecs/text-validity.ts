import { isUtf8 } from 'node:buffer';

/**
 * One rule for text in every codec: a string is well-formed Unicode or the message is malformed.
 * Bytes must be valid UTF-8 (RFC 3629: no overlongs, no encoded surrogates, nothing above
 * U+10FFFF); JSON text, which can spell code units as `\uXXXX` escapes, must not spell a lone
 * surrogate. Replacing bad text with U+FFFD instead would change a label value silently (a JSON
 * `"\ud800"` reached Prometheus as three U+FFFD) and make two different inputs the same series.
 */

/**
 * Whether `buf[start, end)` is valid UTF-8. Short ASCII strings (most attribute keys and label
 * values) are checked in JS: a subarray view plus the native call costs more than the loop for them.
 */
export function isWellFormedUtf8(buf: Uint8Array, start = 0, end = buf.length): boolean {
  if (end - start <= SHORT) {
    let i = start;
    while (i < end && buf[i]! < 0x80) i++;
    if (i === end) return true;
    start = i;
  }
  return isUtf8(buf.subarray(start, end));
}
const SHORT = 32;

const LONE_SURROGATE = /\p{Surrogate}/u; // with the `u` flag a paired surrogate is one code point, so only lone ones match

/** Whether a JS string holds a UTF-16 surrogate without its pair (it has no UTF-8 encoding). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

/**
 * Byte offset of the first `\uXXXX` escape in JSON text `bytes[start, end)` that spells a lone
 * surrogate (a high one not followed by a `\u` low one, or a low one on its own), or -1.
 * Only escapes can make one: valid UTF-8 cannot encode a surrogate. Call it on text that already
 * parsed as JSON, where every backslash starts an escape inside a string. Text without a backslash
 * (most messages) costs one native search; otherwise one JS pass (a native search per escape cost
 * 60 ms per MB of dense escapes, the pass 2 ms).
 */
export function escapedLoneSurrogateOffset(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const first = end === bytes.length ? bytes.indexOf(BACKSLASH, start) : bytes.subarray(start, end).indexOf(BACKSLASH) + start;
  if (first < start) return -1;
  for (let i = first; i < end; i++) {
    if (bytes[i] !== BACKSLASH) continue;
    if (bytes[i + 1] !== LOWER_U) {
      i++; // the escaped character, which may be a backslash itself
      continue;
    }
    const unit = hex4(bytes, i + 2, end);
    if (unit >= 0xdc00 && unit <= 0xdfff) return i;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = bytes[i + 6] === BACKSLASH && bytes[i + 7] === LOWER_U ? hex4(bytes, i + 8, end) : -1;
      if (low < 0xdc00 || low > 0xdfff) return i;
      i += 11;
    } else {
      i += 5;
    }
  }
  return -1;
}

/** The value of four hex digits at `at`, or -1. */
function hex4(bytes: Uint8Array, at: number, end: number): number {
  if (at + 4 > end) return -1;
  let value = 0;
  for (let k = at; k < at + 4; k++) {
    const c = bytes[k]!;
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

const BACKSLASH = 0x5c;
const LOWER_U = 0x75;
