import { describe, expect, it } from 'vitest';
import { ASCII_TEXT, textOf, UTF8_TEXT, utf8Check } from '../../../src/codecs/utf8.ts';

describe('utf8Check and textOf', () => {
  it.each([
    ['ASCII', Buffer.from('{"model":"qwen-plus","n":1}'), ASCII_TEXT],
    ['an empty message', Buffer.alloc(0), ASCII_TEXT],
    ['UTF-8 beyond ASCII', Buffer.from('{"model":"通义千问 é 😀"}'), UTF8_TEXT],
    ['a byte order mark', Buffer.from('\ufeff{"a":1}'), UTF8_TEXT],
  ])('%s reads as the text UTF-8 decoding gives', (_name, bytes, verdict) => {
    const check = utf8Check(bytes);
    expect(check).toBe(verdict);
    expect(textOf(bytes, check, 0, bytes.length)).toBe(bytes.toString('utf8'));
    // A part of the message (an NDJSON line, the text after a BOM) as well.
    expect(textOf(bytes, check, 1, bytes.length - 1)).toBe(bytes.subarray(1, bytes.length - 1).toString('utf8'));
  });

  it('gives the offset of the first invalid sequence', () => {
    expect(utf8Check(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]))).toBe(2);
    // A latin1 byte above 0x7f is not ASCII, and alone it is not UTF-8 either.
    expect(utf8Check(Buffer.from([0x61, 0xe9]))).toBe(1);
  });
});
