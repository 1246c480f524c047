import protobuf from 'protobufjs/minimal.js';
import { isContentAttribute } from '../otlp/content.ts';
import {
  fixed64NanosSubMs,
  fixed64NanosToMs,
  newSpanRecord,
  setAttribute,
  setSpanTimes,
  spanKindName,
  statusCodeName,
  type AttributeValue,
  type OtlpSpanRecord,
  type SpanEventRecord,
} from '../otlp/span-record.ts';
import * as wire from '../otlp/wire.ts';
import { isWellFormedUtf8 } from '../text-validity.ts';

/**
 * Reads an `ExportTraceServiceRequest` straight into flat span records, on protobufjs's `Reader`.
 *
 * Why a walker instead of protobufjs reflection (`Type.decode`) plus a conversion: one pass
 * instead of building the nested message tree and copying it; content attributes are skipped
 * without decoding their strings; a known field with the wrong wire type is an error (protobufjs
 * would silently keep it as an unknown field); and every error says where it happened
 * (`resource_spans[0].scope_spans[0].spans[3].attributes[2]`) instead of protobufjs's bare
 * "index out of range". Message boundaries are enforced the way protobufjs's generated code does
 * it: `reader.len` is narrowed to the end of the message being read, so no read can cross it.
 */
export class OtlpProtoWalker {
  private readonly r: protobuf.Reader;
  private readonly records: OtlpSpanRecord[] = [];
  // Where we are, for error details only; plain numbers and constant strings, so tracking is free.
  private rs = -1;
  private ss = -1;
  private sp = -1;
  private part = '';
  private partIndex = -1;

  constructor(
    private readonly bytes: Buffer,
    private readonly keepContent: boolean,
  ) {
    this.r = protobuf.Reader.create(bytes);
  }

  /**
   * The spans of the whole request; throws `WireError` (or a protobufjs error) on bad input.
   * An empty message is a request with no spans, as protobuf reads it: zero records, not an error.
   */
  request(): OtlpSpanRecord[] {
    const r = this.r;
    while (r.pos < r.len) {
      const at = r.pos;
      const tag = r.tag();
      if (tag >>> 3 !== REQUEST_RESOURCE_SPANS || (tag & 7) !== wire.LEN) {
        // The request has had one field since OTLP 0.x; anything else at the top means these bytes
        // are not an OTLP request at all (and `{` is what OTLP/JSON starts with).
        const hint = this.bytes[0] === 0x7b ? '; the message starts with "{": is it OTLP/JSON (codec otlp_json)?' : '';
        throw new WireError(`not an ExportTraceServiceRequest: field ${tag >>> 3} with wire type ${tag & 7} at byte ${at}${hint}`);
      }
      this.rs++;
      this.ss = -1;
      this.sp = -1;
      const saved = this.enter(REQUEST_RESOURCE_SPANS);
      this.resourceSpans();
      r.len = saved;
    }
    return this.records;
  }

  /** A short description of where the reader stopped, for errors the walker did not raise itself. */
  location(): string {
    return `at byte ${this.r.pos} in ${this.where()}`;
  }

  private resourceSpans(): void {
    const r = this.r;
    const first = this.records.length;
    const resource: Record<string, AttributeValue> = {};
    while (r.pos < r.len) {
      switch (this.field(RESOURCE_SPANS)) {
        case 1: {
          this.part = 'resource';
          const saved = this.enter(1);
          this.resource(resource);
          r.len = saved;
          this.part = '';
          break;
        }
        case 2: {
          this.ss++;
          this.sp = -1;
          const saved = this.enter(2);
          this.scopeSpans();
          r.len = saved;
          break;
        }
        case 3:
          this.skipLength(3);
          break;
      }
    }
    Object.freeze(resource);
    const records = this.records;
    for (let i = first; i < records.length; i++) records[i]!.resource = resource;
  }

  private resource(target: Record<string, AttributeValue>): void {
    const r = this.r;
    this.partIndex = -1;
    while (r.pos < r.len) {
      switch (this.field(RESOURCE)) {
        case 1: {
          this.part = 'resource.attributes';
          this.partIndex++;
          const saved = this.enter(1);
          this.keyValue(target, 0);
          r.len = saved;
          break;
        }
        case 2:
          r.skip();
          break;
        case 3:
          this.skipLength(3);
          break;
      }
    }
  }

  private scopeSpans(): void {
    const r = this.r;
    const first = this.records.length;
    let name = '';
    let version = '';
    while (r.pos < r.len) {
      switch (this.field(SCOPE_SPANS)) {
        case 1: {
          this.part = 'scope';
          const saved = this.enter(1);
          while (r.pos < r.len) {
            switch (this.field(SCOPE)) {
              case 1:
                name = this.text(1);
                break;
              case 2:
                version = this.text(2);
                break;
              case 3:
                this.skipLength(3);
                break;
              case 4:
                r.skip();
                break;
            }
          }
          r.len = saved;
          this.part = '';
          break;
        }
        case 2: {
          this.sp++;
          const saved = this.enter(2);
          this.records.push(this.span());
          r.len = saved;
          break;
        }
        case 3:
          this.skipLength(3);
          break;
      }
    }
    const scope = Object.freeze({ name, version });
    const records = this.records;
    for (let i = first; i < records.length; i++) records[i]!.scope = scope;
  }

  private span(): OtlpSpanRecord {
    const r = this.r;
    const record = newSpanRecord();
    let startHi = 0;
    let startLo = 0;
    let endHi = 0;
    let endLo = 0;
    let attributeIndex = -1;
    let eventIndex = -1;
    while (r.pos < r.len) {
      switch (this.field(SPAN)) {
        case 1:
          record.trace_id = this.id(1, 16);
          break;
        case 2:
          record.span_id = this.id(2, 8);
          break;
        case 3:
          this.skipLength(3);
          break;
        case 4:
          record.parent_span_id = this.id(4, 8);
          break;
        case 5:
          record.name = this.text(5);
          break;
        case 6:
          record.kind = spanKindName(r.int32());
          break;
        case 7:
          this.need(8, 7);
          startLo = r.fixed32();
          startHi = r.fixed32();
          break;
        case 8:
          this.need(8, 8);
          endLo = r.fixed32();
          endHi = r.fixed32();
          break;
        case 9: {
          this.part = 'attributes';
          this.partIndex = ++attributeIndex;
          const saved = this.enter(9);
          this.keyValue(record.attributes, 0);
          r.len = saved;
          this.part = '';
          break;
        }
        case 11: {
          this.part = 'events';
          this.partIndex = ++eventIndex;
          const saved = this.enter(11);
          record.events.push(this.event());
          r.len = saved;
          this.part = '';
          break;
        }
        case 13:
          this.skipLength(13);
          break;
        case 15: {
          this.part = 'status';
          this.partIndex = -1;
          const saved = this.enter(15);
          this.status(record);
          r.len = saved;
          this.part = '';
          break;
        }
        case 16:
          this.need(4, 16);
          r.pos += 4;
          break;
        case 10:
        case 12:
        case 14:
          r.skip();
          break;
      }
    }
    setSpanTimes(
      record,
      fixed64NanosToMs(startHi, startLo),
      fixed64NanosSubMs(startHi, startLo),
      fixed64NanosToMs(endHi, endLo),
      fixed64NanosSubMs(endHi, endLo),
    );
    return record;
  }

  private event(): SpanEventRecord {
    const r = this.r;
    const event: SpanEventRecord = { name: '', time_ms: 0, attributes: {} };
    while (r.pos < r.len) {
      switch (this.field(SPAN_EVENT)) {
        case 1: {
          this.need(8, 1);
          const lo = r.fixed32();
          const hi = r.fixed32();
          event.time_ms = fixed64NanosToMs(hi, lo);
          break;
        }
        case 2:
          event.name = this.text(2);
          break;
        case 3: {
          const saved = this.enter(3);
          this.keyValue(event.attributes, 0);
          r.len = saved;
          break;
        }
        case 4:
          r.skip();
          break;
      }
    }
    return event;
  }

  private status(record: OtlpSpanRecord): void {
    const r = this.r;
    while (r.pos < r.len) {
      switch (this.field(STATUS)) {
        case 2:
          record.status_message = this.text(2);
          break;
        case 3:
          record.status_code = statusCodeName(r.int32());
          break;
      }
    }
  }

  /**
   * One KeyValue into `target`. The key decides whether the value is decoded at all, and protobuf
   * allows the value to come first, so the value is located first and decoded after the loop.
   * A value field given more than once is one AnyValue merged from all of them, as protobuf
   * merges a repeated embedded message; the extra occurrences are rare, so only they cost an array.
   */
  private keyValue(target: Record<string, AttributeValue>, depth: number): void {
    const r = this.r;
    let key = '';
    let valueStart = -1;
    let valueEnd = -1;
    let moreValues: number[] | undefined; // [start, end] pairs of further occurrences
    while (r.pos < r.len) {
      switch (this.field(KEY_VALUE)) {
        case 1:
          key = this.text(1);
          break;
        case 2: {
          const length = this.lengthOf(2);
          if (valueStart < 0) {
            valueStart = r.pos;
            valueEnd = r.pos + length;
          } else {
            (moreValues ??= []).push(r.pos, r.pos + length);
          }
          r.pos += length;
          break;
        }
      }
    }
    if (!this.keepContent && isContentAttribute(key)) return;
    let value: AttributeValue = null;
    if (valueStart >= 0) {
      const end = r.pos;
      const saved = r.len;
      value = this.anyValueAt(valueStart, valueEnd, depth, null, 0);
      if (moreValues !== undefined) {
        for (let i = 0; i < moreValues.length; i += 2) value = this.anyValueAt(moreValues[i]!, moreValues[i + 1]!, depth, value, this.anyValueField);
      }
      r.len = saved;
      r.pos = end;
    }
    setAttribute(target, key, value);
  }

  private anyValueAt(start: number, end: number, depth: number, value: AttributeValue, field: number): AttributeValue {
    this.r.pos = start;
    this.r.len = end;
    return this.anyValue(depth, value, field);
  }

  /** The oneof field the last `anyValue` call ended with (0: none), for merging a repeated value. */
  private anyValueField = 0;

  /**
   * An AnyValue, merged into `value` (set by oneof field `field`, 0 for none) as protobuf merges
   * messages: a scalar field replaces the value; an array_value or kvlist_value that follows the
   * same field extends it (its `values` are a repeated field); empty is null.
   */
  private anyValue(depth: number, value: AttributeValue, field: number): AttributeValue {
    if (depth > MAX_VALUE_DEPTH) throw new WireError(`attribute values nested deeper than ${MAX_VALUE_DEPTH} ${this.location()}`);
    const r = this.r;
    while (r.pos < r.len) {
      const number = this.field(ANY_VALUE);
      switch (number) {
        case 1:
          value = this.text(1);
          break;
        case 2:
          value = r.bool();
          break;
        case 3:
          value = this.int64();
          break;
        case 4:
          this.need(8, 4);
          value = r.double();
          break;
        case 5: {
          const saved = this.enter(5);
          const values = field === 5 ? (value as AttributeValue[]) : [];
          while (r.pos < r.len) {
            if (this.field(ARRAY_VALUE) !== 1) continue;
            const savedItem = this.enter(1);
            values.push(this.anyValue(depth + 1, null, 0));
            r.len = savedItem;
          }
          r.len = saved;
          value = values;
          break;
        }
        case 6: {
          const saved = this.enter(6);
          const map = field === 6 ? (value as Record<string, AttributeValue>) : {};
          while (r.pos < r.len) {
            if (this.field(KEY_VALUE_LIST) !== 1) continue;
            const savedItem = this.enter(1);
            this.keyValue(map, depth + 1);
            r.len = savedItem;
          }
          r.len = saved;
          value = map;
          break;
        }
        case 7: {
          const length = this.lengthOf(7);
          value = this.bytes.toString('base64', r.pos, r.pos + length);
          r.pos += length;
          break;
        }
      }
      if (number !== 0) field = number;
    }
    this.anyValueField = field;
    return value;
  }

  /**
   * Reads the next tag. Returns the field number of a known field whose wire type is right; skips
   * an unknown field and returns 0; throws on a known field with the wrong wire type.
   */
  private field(table: wire.FieldTable): number {
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
  private lengthOf(number: number): number {
    const r = this.r;
    const at = r.pos;
    const length = r.uint32();
    const left = r.len - r.pos;
    if (length > left) throw new WireError(`truncated at byte ${at} in ${this.where()} (field ${number} length ${length} > remaining ${left})`);
    return length;
  }

  /** Enters an embedded message: narrows `reader.len` to its end and returns the outer end. */
  private enter(number: number): number {
    const r = this.r;
    const length = this.lengthOf(number);
    const saved = r.len;
    r.len = r.pos + length;
    return saved;
  }

  private skipLength(number: number): void {
    const length = this.lengthOf(number); // before reading r.pos: lengthOf moves it past the prefix
    this.r.pos += length;
  }

  private need(bytes: number, number: number): void {
    const r = this.r;
    const left = r.len - r.pos;
    if (bytes > left) throw new WireError(`truncated at byte ${r.pos} in ${this.where()} (field ${number} needs ${bytes} bytes > remaining ${left})`);
  }

  private text(number: number): string {
    const r = this.r;
    const length = this.lengthOf(number);
    const start = r.pos;
    r.pos += length;
    // proto3 strings are UTF-8; protobuf's own parsers refuse anything else, and so do we.
    if (!isWellFormedUtf8(this.bytes, start, start + length)) throw new WireError(`invalid UTF-8 at byte ${start} in ${this.where()} (field ${number})`);
    return this.bytes.toString('utf8', start, start + length);
  }

  /** A trace or span id: `size` bytes as lowercase hex, or '' when empty (an unset id). */
  private id(number: number, size: number): string {
    const r = this.r;
    const at = r.pos;
    const length = this.lengthOf(number);
    if (length !== size && length !== 0) {
      throw new WireError(`invalid id at byte ${at} in ${this.where()} (field ${number} ${SPAN[number]![0]}: ${length} bytes, expected ${size})`);
    }
    const start = r.pos;
    r.pos += length;
    return this.bytes.toString('hex', start, start + length);
  }

  /** An int64 varint: a number while exact, else its decimal string (BigInt only for > 7 bytes). */
  private int64(): number | string {
    const r = this.r;
    const bytes = this.bytes;
    const start = r.pos;
    let pos = start;
    for (;;) {
      if (pos >= r.len) throw new WireError(`truncated at byte ${start} in ${this.where()} (field 3 int_value: varint runs past the end)`);
      if (pos - start === 10) throw new WireError(`invalid varint at byte ${start} in ${this.where()} (field 3 int_value: longer than 10 bytes)`);
      if (bytes[pos++]! < 0x80) break;
    }
    r.pos = pos;
    if (pos - start <= 7) {
      let value = 0;
      let scale = 1;
      for (let i = start; i < pos; i++) {
        value += (bytes[i]! & 0x7f) * scale;
        scale *= 128;
      }
      return value;
    }
    let big = 0n;
    for (let i = pos - 1; i >= start; i--) big = (big << 7n) | BigInt(bytes[i]! & 0x7f);
    const value = BigInt.asIntN(64, big);
    return value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
  }

  private where(): string {
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

const MAX_VALUE_DEPTH = 32;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const REQUEST_RESOURCE_SPANS = wire.ExportTraceServiceRequest.resource_spans[0];
const RESOURCE_SPANS = wire.fieldTable(wire.ResourceSpans);
const RESOURCE = wire.fieldTable(wire.Resource);
const SCOPE_SPANS = wire.fieldTable(wire.ScopeSpans);
const SCOPE = wire.fieldTable(wire.InstrumentationScope);
const SPAN = wire.fieldTable(wire.Span);
const SPAN_EVENT = wire.fieldTable(wire.SpanEvent);
const STATUS = wire.fieldTable(wire.Status);
const KEY_VALUE = wire.fieldTable(wire.KeyValue);
const ANY_VALUE = wire.fieldTable(wire.AnyValue);
const ARRAY_VALUE = wire.fieldTable(wire.ArrayValue);
const KEY_VALUE_LIST = wire.fieldTable(wire.KeyValueList);
