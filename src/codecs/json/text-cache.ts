import { ASCII_TEXT, textOf } from '../utf8.ts';

/**
 * The strings of ASCII byte ranges, made once per distinct text while it keeps coming back: a
 * gateway log's label fields (tenant, model, api, error code, app) take a few dozen values, and a
 * string made anew per record is an allocation, then a hash to compute again at each `Map` lookup
 * of the label trie, then a comparison by content against the key there. A string from the cache
 * is the same object as last time, hash computed, found in a `Map` by identity.
 *
 * Direct-mapped: a range's slot comes from its length and three of its bytes, and a range whose
 * text is not the slot's takes the slot over. Text that never repeats (ids) costs one failed
 * comparison and a store per string. Only text up to `MAX_CACHED_LENGTH` bytes is kept (label
 * values are short), so the cache holds at most `SLOTS` short strings, about 100 KB, whatever
 * the input: long strings are made each time.
 */
export class TextCache {
  private readonly slots: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

  /** The text of `b[start, end)`, which is ASCII. */
  get(b: Buffer, start: number, end: number): string {
    const length = end - start;
    if (length === 0) return '';
    if (length > MAX_CACHED_LENGTH) return textOf(b, ASCII_TEXT, start, end);
    const slot = (length * 31 + b[start]! * 7 + b[start + (length >> 1)]! * 131 + b[end - 1]!) & (SLOTS - 1);
    const cached = this.slots[slot];
    if (cached !== undefined && cached.length === length && sameText(cached, b, start)) return cached;
    const text = textOf(b, ASCII_TEXT, start, end);
    this.slots[slot] = text;
    return text;
  }
}

function sameText(text: string, b: Buffer, start: number): boolean {
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) !== b[start + k]) return false;
  return true;
}

const SLOTS = 1024;
export const MAX_CACHED_LENGTH = 64;
