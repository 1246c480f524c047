import { ASCII_TEXT, textOf } from '../utf8.ts';

/**
 * JSON tokens read straight from ASCII bytes, for flat-scanner.ts. Each answers only for text it
 * is sure of and hands anything else back (-1, NOT_A_NUMBER): the caller then leaves the message
 * to `JSON.parse`, whose verdict is the decoder's.
 */

/** The offset of the first byte at or after `i` that is not JSON whitespace (space, tab, LF, CR), or `end`. */
export function skipWhitespace(bytes: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) break;
    i++;
  }
  return i;
}

/**
 * The offset of the quote closing a string whose text starts at `start`, when the text is plain:
 * no escape and no control character (which JSON forbids raw). -1 otherwise, or with no closing quote.
 */
export function stringEnd(b: Uint8Array, start: number, n: number): number {
  for (let i = start; i < n; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i;
    if (c < 0x20 || c === BACKSLASH) return -1;
  }
  return -1;
}

/**
 * The offset of the quote closing a string with escapes: only the one-character escapes JSON
 * has (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`). A `\u` escape (whose surrogates the
 * decoder checks its own way), any other escape or a control character: -1.
 */
export function skipEscapedString(b: Uint8Array, start: number, n: number): number {
  for (let i = start; i < n; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const e = b[++i];
      if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
    }
  }
  return -1;
}

/** Where a number read by `readNumber` ends (one reused object, not a pair per number). */
export interface NumberEnd {
  end: number;
}

/** `readNumber`'s answer for text that is not a JSON number. */
export const NOT_A_NUMBER = Symbol('not a number');

/**
 * The JSON number at `start` (RFC 8259: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`),
 * its end in `out.end`; NOT_A_NUMBER when the text there is no number. The value is
 * `JSON.parse`'s: up to 15 digits and no exponent, the digits as a whole number (exact below
 * 2^53) divided once by a power of ten (exact up to 10^22), which IEEE division rounds
 * correctly, as JSON.parse does (Clinger's fast path); any other number through `Number` of its
 * text, V8's same correctly rounded conversion.
 */
export function readNumber(b: Buffer, start: number, n: number, out: NumberEnd): number | typeof NOT_A_NUMBER {
  let i = start;
  const negative = b[i] === MINUS;
  if (negative) i++;
  let mantissa = 0;
  let digits = 0;
  let c = b[i];
  if (c === ZERO) {
    i++;
    digits = 1;
  } else {
    while (c !== undefined && c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      c = b[++i];
    }
    if (digits === 0) return NOT_A_NUMBER;
  }
  let decimals = 0;
  if (b[i] === DOT) {
    c = b[++i];
    while (c !== undefined && c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      decimals++;
      c = b[++i];
    }
    if (decimals === 0) return NOT_A_NUMBER;
  }
  let exponent = false;
  if (b[i] === LOWER_E || b[i] === UPPER_E) {
    exponent = true;
    c = b[++i];
    if (c === PLUS || c === MINUS) c = b[++i];
    let exponentDigits = 0;
    while (c !== undefined && c >= ZERO && c <= NINE) {
      exponentDigits++;
      c = b[++i];
    }
    if (exponentDigits === 0) return NOT_A_NUMBER;
  }
  out.end = i;
  if (exponent || digits + decimals > 15) return Number(textOf(b, ASCII_TEXT, start, i));
  const value = decimals === 0 ? mantissa : mantissa / POWERS_OF_TEN[decimals]!;
  return negative ? -value : value;
}

const POWERS_OF_TEN = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
