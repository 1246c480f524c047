import { isAscii, isUtf8 } from 'node:buffer';

/** `utf8Check`'s verdict for bytes that are all ASCII (valid UTF-8 whose latin1 reading is the same text). */
export const ASCII_TEXT = -2;
/** `utf8Check`'s verdict for valid UTF-8 that is not all ASCII. */
export const UTF8_TEXT = -1;

/**
 * How `bytes` read as text: ASCII_TEXT, UTF8_TEXT, or the byte offset of the first invalid
 * sequence. Most messages are ASCII, and for them one native `isAscii` replaces `isUtf8`, and
 * `textOf` a latin1 copy replaces the UTF-8 decoder: per 538 B gateway log, `toString('utf8')`
 * 279 ns against `latin1Slice` 110 ns (microbench).
 */
export function utf8Check(bytes: Uint8Array): number {
  return isAscii(bytes) ? ASCII_TEXT : invalidUtf8Offset(bytes);
}

/** The text of `bytes[start, end)`, which `utf8Check` found ASCII_TEXT or UTF8_TEXT. */
export function textOf(bytes: Buffer, check: number, start: number, end: number): string {
  // Buffer's own slice decoders: `toString(encoding, ...)` checks its arguments and the encoding first.
  return check === ASCII_TEXT ? (bytes as SlicingBuffer).latin1Slice(start, end) : (bytes as SlicingBuffer).utf8Slice(start, end);
}

/** Node's Buffer slice decoders, which its typings leave out (avsc uses them the same way). */
interface SlicingBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/**
 * Byte offset of the first invalid UTF-8 sequence in `bytes`, or -1 when it is valid.
 * The common (valid) case costs one native `isUtf8` call; only a bad message pays for the scan.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Sequence length and the allowed range of its second byte (RFC 3629 table: no overlongs, no surrogates).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      else if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      else if (b === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > n) return i;
    const second = bytes[i + 1]!;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k]!;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}
