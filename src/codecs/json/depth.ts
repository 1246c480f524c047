/**
 * How deep JSON may nest (objects and arrays) before the message is refused: far beyond any real
 * record (an OTLP/JSON attribute 32 values deep is about 100), and bounding what `JSON.parse` costs.
 * V8's parser grows super-linearly with depth (measured: 32k levels in 64 KB took 30 ms, 512k
 * levels in 1 MB 0.6-1.5 s).
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Byte offset of the bracket that opens level `MAX_JSON_DEPTH + 1` in JSON text `bytes[start, end)`,
 * or -1. Text shorter than that many bytes cannot reach it and is not scanned, so ordinary
 * messages pay nothing; a longer one pays one linear pass, skipping strings.
 */
export function tooDeepOffset(bytes: Uint8Array, start: number, end: number): number {
  if (end - start <= MAX_JSON_DEPTH) return -1;
  let depth = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      for (i++; i < end; i++) {
        const d = bytes[i];
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return -1;
}

/** The rejection detail for `tooDeepOffset`. */
export function tooDeepDetail(offset: number): string {
  return `nested deeper than ${MAX_JSON_DEPTH} levels at byte ${offset}`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
