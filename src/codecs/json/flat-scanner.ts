import type { AvroFieldCheck } from '../avro/compiled-check.ts';
import { generatedFunction } from '../../core/generated-function.ts';
import type { DecodedRecord } from '../decoder.ts';
import { ASCII_TEXT, textOf } from '../utf8.ts';
import { NOT_A_NUMBER, readNumber, skipEscapedString, skipWhitespace, stringEnd, type NumberEnd } from './flat-tokens.ts';
import { TextCache } from './text-cache.ts';

/**
 * Reads the fields a pipeline uses out of a flat JSON object's bytes, without `JSON.parse`
 * making every string, number and property of the message: a gateway log names 20 fields, and
 * the gateway pipeline reads 13 of them (the 7 it skips, keys included, are half the text: ids,
 * the user agent, the trace id).
 *
 * It answers only what it is sure of. The record it returns is exactly `JSON.parse`'s restricted
 * to the fields read (the same values, keys absent where the message has none), and is returned
 * only when the full path would accept the message, contract included. Anything else (nested
 * values, `\u` escapes, text that is not JSON, a value its contract refuses) answers undefined,
 * and the caller decodes the message the full way, which also gives the rejection its detail. So
 * the scanner decides no verdict; it only saves work on messages it recognises, and
 * test/unit/codecs/json-flat-scanner.test.ts holds it to that on JSONTestSuite, on hostile
 * mutations of gateway logs and on the shipped contracts.
 *
 * A stream whose messages it keeps handing back (nested records, say) is not scanned for a while:
 * when more than one in eight of `SCAN_WINDOW` scans missed, the next `REST_MESSAGES` messages go
 * straight to the full path, so such a pipeline wastes a scan on under 2 % of its messages, and a
 * burst of bad messages does not turn the scanner off for good.
 */
export class FlatJsonScanner {
  /** Every field the scanner knows: the fields read, then the contract's others. */
  private readonly fields: readonly KnownField[];
  /** Known fields by key length, for a key not where the last message had it. */
  private readonly byLength = new Map<number, number[]>();
  /** Slot of each known field in `values`, given when a message first names it (-1 before). */
  private readonly slotOf: number[];
  /** Known field of each slot, in the order the stream first named them. */
  private readonly slotFields: number[] = [];
  /** Per slot, the value read from the current message (`ABSENT` if none). */
  private readonly values: unknown[] = [];
  /** The known field at each key position of the last message: messages of one producer repeat their key order. */
  private readonly lastOrder: number[] = [];
  /** Required fields (no default in the contract) that no message has named yet: while any is, every message lacks it. */
  private unslottedRequired: number;
  /** Checks and builds a record from `values`, generated for the slots (see `finishFor`). */
  private finish: (values: unknown[]) => DecodedRecord | undefined;
  /** The strings of texts that keep coming back (label values), the same objects each time. */
  private readonly texts = new TextCache();
  /** Where the number `readNumber` last read ends. */
  private readonly numberEnd: NumberEnd = { end: 0 };
  /** Scans in the current window, and how many of them missed. */
  private scanned = 0;
  private misses = 0;
  /** Messages still to hand back unscanned after a window that mostly missed. */
  private resting = 0;

  constructor(readFields: readonly string[], contract: readonly AvroFieldCheck[] | undefined) {
    const names = [...readFields, ...(contract ?? []).map((c) => c.name).filter((name) => !readFields.includes(name))];
    this.fields = names.map((name, f) => {
      const check = contract?.find((c) => c.name === name);
      const read = f < readFields.length;
      return { name, key: Buffer.from(name, 'latin1'), read, check, needsText: read || (check !== undefined && !check.anyString) };
    });
    this.fields.forEach(({ key }, f) => this.byLength.set(key.length, [...(this.byLength.get(key.length) ?? []), f]));
    this.slotOf = names.map(() => -1);
    this.unslottedRequired = this.fields.filter((field) => field.check?.required).length;
    this.finish = this.finishFor();
  }

  /** The record of an ASCII message, or undefined when the full path must decide (or while resting). */
  scan(bytes: Buffer): DecodedRecord | undefined {
    if (this.resting > 0) {
      this.resting--;
      return undefined;
    }
    let record: DecodedRecord | undefined;
    try {
      record = this.scanObject(bytes);
    } finally {
      if (record === undefined) {
        this.values.fill(ABSENT); // a scan that stopped part-way (or threw), or a record refused, left values in the slots
        this.misses++;
      }
    }
    if (++this.scanned === SCAN_WINDOW) {
      if (this.misses * 8 > SCAN_WINDOW) this.resting = REST_MESSAGES;
      this.scanned = this.misses = 0;
    }
    return record;
  }

  private scanObject(b: Buffer): DecodedRecord | undefined {
    const n = b.length;
    // Every slot is ABSENT here: finishRecord and the record maker empty the slots they read, a miss fills them (scan).
    const values = this.values;
    let i = skipWhitespace(b, 0, n);
    if (b[i] !== OPEN_BRACE) return undefined;
    i = skipWhitespace(b, i + 1, n);
    if (b[i] === CLOSE_BRACE) i++;
    else {
      for (let position = 0; ; position++) {
        if (b[i] !== QUOTE) return undefined;
        const keyStart = i + 1;
        // The key where the last message had it, compared in place; any other key is found by its end.
        let f = this.keyAt(b, keyStart, this.lastOrder[position]);
        let keyEnd: number;
        if (f >= 0) keyEnd = keyStart + this.fields[f]!.key.length;
        else {
          keyEnd = stringEnd(b, keyStart, n);
          if (keyEnd < 0) return undefined; // an escape, a control character or no end: the full path decides
          f = this.fieldOf(b, keyStart, keyEnd, position);
        }
        i = keyEnd + 1;
        if (b[i] !== COLON) i = skipWhitespace(b, i, n);
        if (b[i++] !== COLON) return undefined;
        if (b[i]! <= SPACE) i = skipWhitespace(b, i, n);
        const c = b[i];
        let value: unknown;
        if (c === QUOTE) {
          const end = stringEnd(b, i + 1, n);
          if (end < 0) {
            // Escapes: let JSON.parse read just this string (the record's text and its errors are its own).
            const escapedEnd = skipEscapedString(b, i + 1, n);
            if (escapedEnd < 0) return undefined;
            if (f >= 0) value = this.fields[f]!.needsText ? JSON.parse(textOf(b, ASCII_TEXT, i, escapedEnd + 1)) : '';
            i = escapedEnd + 1;
          } else {
            // A string the pipeline does not read is checked as '' where any string passes: its text is never made.
            if (f >= 0) value = this.fields[f]!.needsText ? this.texts.get(b, i + 1, end) : '';
            i = end + 1;
          }
        } else if (c === LOWER_T && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
          value = true;
          i += 4;
        } else if (c === LOWER_F && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
          value = false;
          i += 5;
        } else if (c === LOWER_N && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
          value = null;
          i += 4;
        } else {
          value = readNumber(b, i, n, this.numberEnd);
          if (value === NOT_A_NUMBER) return undefined; // not a scalar this scanner reads (an object, an array), or not JSON
          i = this.numberEnd.end;
        }
        // A repeated key keeps its last value, as in JSON.parse's record, and that one is checked.
        if (f >= 0) values[this.slotOf[f]!] = value;
        if (b[i]! <= SPACE) i = skipWhitespace(b, i, n);
        if (b[i] === COMMA) {
          if (b[++i]! <= SPACE) i = skipWhitespace(b, i, n);
          continue;
        }
        if (b[i] !== CLOSE_BRACE) return undefined;
        i++;
        break;
      }
    }
    if (skipWhitespace(b, i, n) !== n || this.unslottedRequired > 0) return undefined;
    return this.finish(values);
  }

  /**
   * A function of its own for the current slots (generated again when a message names a known
   * field for the first time, a few times at the start of a stream): it refuses values the
   * contract refuses or that miss a required field, and makes the record with `recordMaker`.
   * Each check is a call site of its own, which V8 inlines.
   */
  private finishFor(): (values: unknown[]) => DecodedRecord | undefined {
    const params: unknown[] = [ABSENT, this.recordMaker()];
    const param = (value: unknown): string => `p${params.push(value) - 1}`;
    let body = 'let x;\n';
    this.slotFields.forEach((f, slot) => {
      const check = this.fields[f]!.check;
      if (check === undefined) return;
      body += `x = v[${slot}];\n`;
      body += check.required ? `if (x === p0 || !${param(check.test)}(x)) return undefined;\n` : `if (x !== p0 && !${param(check.test)}(x)) return undefined;\n`;
      // A check-only field's slot is emptied here; a read field's by the record maker, which reads it after.
      if (!this.fields[f]!.read) body += `v[${slot}] = p0;\n`;
    });
    return generatedFunction('finishRecord', ['v'], `${body}return new p1(v);`, params);
  }

  /**
   * A constructor of records from `values`: each read field stored when present (absent ones
   * stay absent, as in JSON.parse's record), one monomorphic store each. A constructor, not an
   * object literal filled by stores, for V8's in-object slack tracking: its instances get room
   * inside the object for every field stored, the computed fields the transforms add after
   * included, where `{}` has room for four and grows a separate property array three fields at a
   * time (about 300 B of garbage per gateway record, and 50 ns). Its `prototype` is
   * Object.prototype, so a record is a plain object, as the rest of the pipeline expects
   * (field-path.ts).
   */
  private recordMaker(): new (values: unknown[]) => DecodedRecord {
    const params: unknown[] = [ABSENT];
    let body = 'let x;\n';
    this.slotFields.forEach((f, slot) => {
      if (this.fields[f]!.read) body += `x = v[${slot}];\nv[${slot}] = p0;\nif (x !== p0) this[p${params.push(this.fields[f]!.name) - 1}] = x;\n`;
    });
    const maker = generatedFunction<new (values: unknown[]) => DecodedRecord>('JsonRecord', ['v'], body, params);
    maker.prototype = Object.prototype;
    return maker;
  }

  /** `f` when the key at `start` is known field `f`'s, its closing quote included; -1 otherwise (or for no `f`). */
  private keyAt(b: Buffer, start: number, f: number | undefined): number {
    if (f === undefined) return -1;
    const key = this.fields[f]!.key;
    const length = key.length;
    for (let k = 0; k < length; k++) if (key[k] !== b[start + k]) return -1;
    return b[start + length] === QUOTE ? f : -1;
  }

  /** The known field whose key is `b[start, end)` (`end` its closing quote), or -1, remembered for this key position. */
  private fieldOf(b: Buffer, start: number, end: number, position: number): number {
    const candidates = this.byLength.get(end - start);
    if (candidates === undefined) return -1;
    for (let c = 0; c < candidates.length; c++) {
      const f = candidates[c]!;
      if (this.keyAt(b, start, f) === f) {
        this.lastOrder[position] = f;
        if (this.slotOf[f] === -1) this.giveSlot(f);
        return f;
      }
    }
    return -1;
  }

  /** A slot for a known field a message names for the first time. */
  private giveSlot(f: number): void {
    this.slotOf[f] = this.slotFields.push(f) - 1;
    this.values.push(ABSENT);
    if (this.fields[f]!.check?.required) this.unslottedRequired--;
    this.finish = this.finishFor();
  }
}

/** Scans whose misses decide whether the scanner rests (see FlatJsonScanner). */
export const SCAN_WINDOW = 512;
/** Messages handed back unscanned after a window with more than one miss in eight. */
export const REST_MESSAGES = 64 * SCAN_WINDOW;

interface KnownField {
  readonly name: string;
  readonly key: Buffer;
  /** Kept in the record (a field the pipeline reads), not only checked. */
  readonly read: boolean;
  readonly check: AvroFieldCheck | undefined;
  /** A string value must be made: the field is read, or its contract passes only some strings. */
  readonly needsText: boolean;
}

/** A known field the current message has not given. */
const ABSENT = Symbol('absent');

const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const LOWER_T = 0x74;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
