import { skipWhitespace } from './flat-tokens.ts';

/**
 * Says where and why `bytes[start, end)` is not JSON, without quoting any of it.
 *
 * Why not `JSON.parse`'s own message: V8 quotes the input ("Unexpected token 'x', "...secret..."
 * is not valid JSON"), and a rejection detail must never carry user content. This scanner runs only
 * after `JSON.parse` has failed, so the valid-message path never pays for it. It walks the bytes
 * (JSON's structural characters are all ASCII), so offsets are byte offsets into the message, as
 * a person inspecting the dead-letter copy counts them. It is iterative, so any depth is safe.
 */
export function describeJsonSyntaxError(bytes: Uint8Array, start: number, end: number): string {
  const stack: number[] = []; // OBJECT or ARRAY per open container
  let i = skipWhitespace(bytes, start, end);

  // Each iteration parses one value at `i`, then consumes separators up to the next value.
  for (;;) {
    if (i >= end) return endOfInput(i);
    const c = bytes[i]!;
    if (c === OPEN_BRACE) {
      i = skipWhitespace(bytes, i + 1, end);
      if (i < end && bytes[i] === CLOSE_BRACE) {
        i++;
      } else {
        stack.push(OBJECT);
        const afterKey = objectKey(bytes, i, end);
        if (typeof afterKey === 'string') return afterKey;
        i = afterKey;
        continue;
      }
    } else if (c === OPEN_BRACKET) {
      i = skipWhitespace(bytes, i + 1, end);
      if (i < end && bytes[i] === CLOSE_BRACKET) {
        i++;
      } else {
        stack.push(ARRAY);
        continue;
      }
    } else if (c === QUOTE) {
      const after = string(bytes, i, end);
      if (typeof after === 'string') return after;
      i = after;
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      const after = number(bytes, i, end);
      if (typeof after === 'string') return after;
      i = after;
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
      const literal = c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL;
      for (let k = 0; k < literal.length; k++) {
        if (i + k >= end) return endOfInput(i + k);
        if (bytes[i + k] !== literal[k]) return `invalid literal at byte ${i + k}`;
      }
      i += literal.length;
    } else {
      return `unexpected character at byte ${i}`;
    }

    // After a value: close containers, or find the separator before the next value.
    for (;;) {
      i = skipWhitespace(bytes, i, end);
      const top = stack[stack.length - 1];
      if (top === undefined) {
        return i < end ? `unexpected data after the JSON value at byte ${i}` : 'not a single JSON value';
      }
      if (i >= end) return endOfInput(i);
      const s = bytes[i]!;
      if (s === COMMA) {
        i = skipWhitespace(bytes, i + 1, end);
        if (top === OBJECT) {
          const afterKey = objectKey(bytes, i, end);
          if (typeof afterKey === 'string') return afterKey;
          i = afterKey;
        }
        break;
      }
      if ((top === OBJECT && s === CLOSE_BRACE) || (top === ARRAY && s === CLOSE_BRACKET)) {
        stack.pop();
        i++;
        continue;
      }
      return `unexpected character at byte ${i}`;
    }
  }
}

/** Parses `"key" :` at `i`; returns the offset after the colon, or the error. */
function objectKey(bytes: Uint8Array, i: number, end: number): number | string {
  if (i >= end) return endOfInput(i);
  if (bytes[i] !== QUOTE) return `expected a property name at byte ${i}`;
  const after = string(bytes, i, end);
  if (typeof after === 'string') return after;
  const colon = skipWhitespace(bytes, after, end);
  if (colon >= end) return endOfInput(colon);
  if (bytes[colon] !== COLON) return `expected ':' at byte ${colon}`;
  return skipWhitespace(bytes, colon + 1, end);
}

function string(bytes: Uint8Array, i: number, end: number): number | string {
  for (i++; i < end; i++) {
    const b = bytes[i]!;
    if (b === QUOTE) return i + 1;
    if (b < 0x20) return `control character in a string at byte ${i}`;
    if (b === BACKSLASH) {
      const e = bytes[i + 1];
      if (e === undefined || i + 1 >= end) return endOfInput(i + 1);
      if (e === 0x75 /* u */) {
        for (let k = 2; k < 6; k++) {
          if (i + k >= end) return endOfInput(i + k);
          if (!isHex(bytes[i + k]!)) return `invalid \\u escape at byte ${i}`;
        }
        i += 5;
      } else if (ESCAPES.includes(e)) {
        i++;
      } else {
        return `invalid escape sequence at byte ${i}`;
      }
    }
  }
  return endOfInput(i);
}

function number(bytes: Uint8Array, i: number, end: number): number | string {
  const at = i;
  if (bytes[i] === MINUS) i++;
  if (i >= end) return endOfInput(i);
  if (bytes[i] === DIGIT_0) i++;
  else if (isDigit(bytes[i]!)) while (i < end && isDigit(bytes[i]!)) i++;
  else return `invalid number at byte ${at}`;
  if (i < end && bytes[i] === 0x2e /* . */) {
    i++;
    if (i >= end || !isDigit(bytes[i]!)) return `invalid number at byte ${at}`;
    while (i < end && isDigit(bytes[i]!)) i++;
  }
  if (i < end && (bytes[i] === 0x65 || bytes[i] === 0x45) /* e E */) {
    i++;
    if (i < end && (bytes[i] === 0x2b || bytes[i] === MINUS)) i++;
    if (i >= end || !isDigit(bytes[i]!)) return `invalid number at byte ${at}`;
    while (i < end && isDigit(bytes[i]!)) i++;
  }
  return i;
}

const endOfInput = (at: number): string => `unexpected end of input at byte ${at}`;
const isDigit = (b: number): boolean => b >= DIGIT_0 && b <= DIGIT_9;
const isHex = (b: number): boolean => isDigit(b) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46);

const OBJECT = 0;
const ARRAY = 1;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
// The characters allowed after a backslash, besides `u`: " \ / b f n r t
const ESCAPES = [0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74];

/** Why JSON text that parsed is still refused: an escape spells half a character (see text-validity.ts). */
export function loneSurrogateDetail(offset: number): string {
  return `not Unicode: the \\u escape at byte ${offset} is a lone surrogate`;
}
