import { isContentAttribute } from '../otlp/content.ts';
import { setAttribute, type AttributeValue } from '../otlp/span-record.ts';
import * as wire from '../otlp/wire.ts';
import { ProtoCursor, WireError } from './proto-cursor.ts';

/**
 * The walker's attribute decoding: a KeyValue into a record's attribute object, its AnyValue
 * merged as protobuf merges repeated messages, nested arrays and kvlists bounded in depth, int64
 * kept exact, and content attributes (see ../otlp/content.ts) skipped without decoding their
 * values unless `keepContent` asks for them.
 */
export abstract class AttributeDecoder extends ProtoCursor {
  constructor(
    bytes: Buffer,
    protected readonly keepContent: boolean,
  ) {
    super(bytes);
  }

  /**
   * One KeyValue into `target`. The key decides whether the value is decoded at all, and protobuf
   * allows the value to come first, so the value is located first and decoded after the loop.
   * A value field given more than once is one AnyValue merged from all of them, as protobuf
   * merges a repeated embedded message; the extra occurrences are rare, so only they cost an array.
   */
  protected keyValue(target: Record<string, AttributeValue>, depth: number): void {
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
}

const MAX_VALUE_DEPTH = 32;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const KEY_VALUE = wire.fieldTable(wire.KeyValue);
const ANY_VALUE = wire.fieldTable(wire.AnyValue);
const ARRAY_VALUE = wire.fieldTable(wire.ArrayValue);
const KEY_VALUE_LIST = wire.fieldTable(wire.KeyValueList);
