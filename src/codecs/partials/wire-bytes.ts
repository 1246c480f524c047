/**
 * The primitives of Sluice's fixed-layout binary wires: unsigned varints (LEB128, up to 2^53),
 * raw float64 little-endian (every bit kept: NaN, ±Infinity, -0), numbers as either (whole
 * ones as varints, the rest raw), and strings with a table per
 * message, so a tenant or label value repeated across a message's partials is written once and
 * decoded once (every later use is the same string object).
 *
 * A string is a varint header `h`, then its bytes:
 *   h = 0           undefined (a missing label value)
 *   h & 3 = 1       the (h >>> 2)th string of this message's table
 *   h & 3 = 2       a new string of (h >>> 2) bytes of UTF-8, appended to the table
 *   h & 3 = 3       a new string of (h >>> 2) UTF-16 code units, 2 bytes each, little-endian:
 *                   only for strings with lone surrogates, which UTF-8 cannot carry exactly
 */
import { writeDoubleLE } from '../../core/double-bytes.ts';

/** The reader's scratch: a double's bytes are copied in, the double read out. */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
/** The byte order of F64_BYTES: the wire is little-endian on every machine. */
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

/** The largest whole number written as a varint: twice it is still exact in a double. */
const MAX_COMPACT = 2 ** 52;

const STRING_REF = 1;
const STRING_UTF8 = 2;
const STRING_UTF16 = 3;

/** Strings up to this many bytes are decoded in JavaScript: a native call costs more for them. */
const SHORT_STRING = 24;

export class WireWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly strings = new Map<string, number>();

  constructor(initialBytes = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written since the last `take` / `reset`. */
  get length(): number {
    return this.pos;
  }

  /** Starts a new message: no bytes, an empty string table. */
  reset(): void {
    this.pos = 0;
    this.strings.clear();
  }

  /** The message written so far, as its own Buffer; the writer starts a new one. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.reset();
    return out;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buf[this.pos++] = value;
  }

  /** An unsigned integer up to 2^53 − 1. */
  varint(value: number): void {
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    while (value > 0x7fffffff) {
      buf[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  f64(value: number): void {
    this.ensure(8);
    this.pos = writeDoubleLE(this.buf, this.pos, value);
  }

  /**
   * Any number, compactly when it is a whole number in [0, 2^52] (counts, bucket counts, times in
   * ms): varint 2n, 1 to 7 bytes; any other (fractions, negatives, -0, NaN, ±Infinity) is
   * varint 1 and its raw float64.
   */
  number(value: number): void {
    if (Number.isInteger(value) && value >= 0 && value <= MAX_COMPACT && (value !== 0 || 1 / value > 0)) {
      this.varint(value * 2);
    } else {
      this.byte(1);
      this.f64(value);
    }
  }

  /** A length-prefixed run of bytes. */
  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  string(value: string | undefined): void {
    if (value === undefined) {
      this.byte(0);
      return;
    }
    const index = this.strings.get(value);
    if (index !== undefined) {
      this.varint(index * 4 + STRING_REF);
      return;
    }
    this.strings.set(value, this.strings.size);
    const n = value.length;
    const utf8 = utf8Length(value);
    if (utf8 < 0) {
      this.varint(n * 4 + STRING_UTF16);
      this.ensure(2 * n);
      this.buf.write(value, this.pos, 2 * n, 'utf16le');
      this.pos += 2 * n;
      return;
    }
    this.varint(utf8 * 4 + STRING_UTF8);
    this.ensure(utf8);
    if (utf8 === n) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = value.charCodeAt(i);
      this.pos = pos;
    } else {
      this.pos += this.buf.write(value, this.pos, utf8, 'utf8');
    }
  }
}

/** The UTF-8 byte length of a string, or −1 when it holds a lone surrogate. */
function utf8Length(value: string): number {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c < 0xd800 || c > 0xdfff) bytes += 3;
    else if (c <= 0xdbff && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else return -1;
  }
  return bytes;
}

/** A wire message written by WireWriter that cannot be read: cut short or not of this format. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

export class WireReader {
  private pos: number;
  private readonly strings: string[] = [];

  constructor(
    private readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Throws unless `bytes` more bytes are there: before allocating for a count read from the wire. */
  need(bytes: number): void {
    if (this.pos + bytes > this.buf.length) throw new WireFormatError(`message cut short at byte ${this.pos}`);
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  varint(): number {
    const buf = this.buf;
    let value = 0;
    let scale = 1;
    for (let shift = 0; shift < 56; shift += 7) {
      if (this.pos >= buf.length) throw new WireFormatError(`message cut short at byte ${this.pos}`);
      const b = buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
    }
    throw new WireFormatError(`varint longer than 8 bytes at byte ${this.pos}`);
  }

  f64(): number {
    this.need(8);
    const buf = this.buf;
    const pos = this.pos;
    if (LITTLE_ENDIAN) {
      F64_BYTES[0] = buf[pos]!;
      F64_BYTES[1] = buf[pos + 1]!;
      F64_BYTES[2] = buf[pos + 2]!;
      F64_BYTES[3] = buf[pos + 3]!;
      F64_BYTES[4] = buf[pos + 4]!;
      F64_BYTES[5] = buf[pos + 5]!;
      F64_BYTES[6] = buf[pos + 6]!;
      F64_BYTES[7] = buf[pos + 7]!;
    } else {
      for (let i = 0; i < 8; i++) F64_BYTES[7 - i] = buf[pos + i]!;
    }
    this.pos = pos + 8;
    return F64[0]!;
  }

  /** A number written by WireWriter.number. */
  number(): number {
    const header = this.varint();
    if (header === 1) return this.f64();
    if (header % 2 !== 0) throw new WireFormatError(`bad number header ${header}`);
    return header / 2;
  }

  /** A length-prefixed run of bytes: a view into the message, valid as long as it is. */
  bytes(): Buffer {
    const n = this.varint();
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string | undefined {
    const header = this.varint();
    if (header === 0) return undefined;
    const n = Math.floor(header / 4);
    switch (header % 4) {
      case STRING_REF: {
        const known = this.strings[n];
        if (known === undefined) throw new WireFormatError(`string reference ${n} beyond the ${this.strings.length} strings read`);
        return known;
      }
      case STRING_UTF8: {
        this.need(n);
        const value = n <= SHORT_STRING ? shortString(this.buf, this.pos, n) : this.buf.toString('utf8', this.pos, this.pos + n);
        this.pos += n;
        this.strings.push(value);
        return value;
      }
      case STRING_UTF16: {
        this.need(2 * n);
        const value = this.buf.toString('utf16le', this.pos, this.pos + 2 * n);
        this.pos += 2 * n;
        this.strings.push(value);
        return value;
      }
      default:
        throw new WireFormatError(`bad string header ${header}`);
    }
  }
}

/** A short UTF-8 string: ASCII built here, anything else by the native decoder. */
function shortString(buf: Buffer, start: number, n: number): string {
  let value = '';
  for (let i = start; i < start + n; i++) {
    const b = buf[i]!;
    if (b >= 0x80) return buf.toString('utf8', start, start + n);
    value += String.fromCharCode(b);
  }
  return value;
}
