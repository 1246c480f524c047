import protobuf from 'protobufjs/minimal.js';
import * as wire from '../otlp/wire.ts';
import { isWellFormedUtf8 } from '../text-validity.ts';

/**
 * The walker's reading primitives over one request's bytes: protobufjs's `Reader` with message
 * bounds (`enter` narrows `reader.len`), tag and wire-type checks against a field table, length
 * and UTF-8 checks, and the walker's position (`resource_spans[0].scope_spans[0].spans[3]...`)
 * that every error names. See walker.ts for why the request is walked by hand.
 */
export abstract class ProtoCursor {
  protected readonly r: protobuf.Reader;
  // Where we are, for error details only; plain numbers and constant strings, so tracking is free.
  protected rs = -1;
  protected ss = -1;
  protected sp = -1;
  protected part = '';
  protected partIndex = -1;

  constructor(protected readonly bytes: Buffer) {
    this.r = protobuf.Reader.create(bytes);
  }

  /** A short description of where the reader stopped, for errors the walker did not raise itself. */
  location(): string {
    return `at byte ${this.r.pos} in ${this.where()}`;
  }

  /**
   * Reads the next tag. Returns the field number of a known field whose wire type is right; skips
   * an unknown field and returns 0; throws on a known field with the wrong wire type.
   */
  protected field(table: wire.FieldTable): number {
    const r = this.r;
    const at = r.pos;
    const tag = r.tag();
    const number = tag >>> 3;
    const wireType = tag & 7;
    if (number === 0) throw new WireError(`invalid tag: field number 0 at byte ${at} in ${this.where()}`);
    if (wireType > wire.I32) throw new WireError(`invalid wire type ${wireType} for field ${number} at byte ${at} in ${this.where()}`);
    const known = table[number];
    if (known === undefined) {
      this.skipUnknown(wireType, number, at);
      return 0;
    }
    if (known[1] !== wireType) {
      throw new WireError(`wrong wire type at byte ${at} in ${this.where()} (field ${number} ${known[0]}: wire type ${wireType}, expected ${known[1]})`);
    }
    return number;
  }

  private skipUnknown(wireType: number, number: number, at: number): void {
    const r = this.r;
    switch (wireType) {
      case wire.VARINT:
        r.skip();
        return;
      case wire.I64:
        this.need(8, number);
        r.pos += 8;
        return;
      case wire.LEN:
        this.skipLength(number);
        return;
      case 3: // a (deprecated) group: protobufjs matches its end tag
        r.skipType(3, 0, number);
        return;
      case wire.I32:
        this.need(4, number);
        r.pos += 4;
        return;
      default:
        throw new WireError(`invalid wire type ${wireType} for field ${number} at byte ${at} in ${this.where()}`);
    }
  }

  /** Reads a length prefix and checks it against the bytes left in the current message. */
  protected lengthOf(number: number): number {
    const r = this.r;
    const at = r.pos;
    const length = r.uint32();
    const left = r.len - r.pos;
    if (length > left) throw new WireError(`truncated at byte ${at} in ${this.where()} (field ${number} length ${length} > remaining ${left})`);
    return length;
  }

  /** Enters an embedded message: narrows `reader.len` to its end and returns the outer end. */
  protected enter(number: number): number {
    const r = this.r;
    const length = this.lengthOf(number);
    const saved = r.len;
    r.len = r.pos + length;
    return saved;
  }

  protected skipLength(number: number): void {
    const length = this.lengthOf(number); // before reading r.pos: lengthOf moves it past the prefix
    this.r.pos += length;
  }

  protected need(bytes: number, number: number): void {
    const r = this.r;
    const left = r.len - r.pos;
    if (bytes > left) throw new WireError(`truncated at byte ${r.pos} in ${this.where()} (field ${number} needs ${bytes} bytes > remaining ${left})`);
  }

  protected text(number: number): string {
    const r = this.r;
    const length = this.lengthOf(number);
    const start = r.pos;
    r.pos += length;
    // proto3 strings are UTF-8; protobuf's own parsers refuse anything else, and so do we.
    if (!isWellFormedUtf8(this.bytes, start, start + length)) throw new WireError(`invalid UTF-8 at byte ${start} in ${this.where()} (field ${number})`);
    return this.bytes.toString('utf8', start, start + length);
  }

  protected where(): string {
    if (this.rs < 0) return 'ExportTraceServiceRequest';
    let where = `resource_spans[${this.rs}]`;
    if (this.ss >= 0) where += `.scope_spans[${this.ss}]`;
    if (this.sp >= 0) where += `.spans[${this.sp}]`;
    if (this.part !== '') {
      where += `.${this.part}`;
      if (this.partIndex >= 0 && this.part !== 'status' && this.part !== 'scope') where += `[${this.partIndex}]`;
    }
    return where;
  }
}

/** A decoding error whose message is already the precise, content-free detail. */
export class WireError extends Error {}
