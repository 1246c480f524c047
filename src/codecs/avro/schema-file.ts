import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import avro from 'avsc';
import { CodecConfigError } from '../decoder.ts';

/**
 * Reads and parses one `.avsc` file (relative to `baseDir`) at load time, with config-path errors.
 * With `exactIntegers`, an integer literal beyond ±2^53 (a `long` default) is read as its exact
 * decimal string, the representation decoded longs take there, instead of a rounded double.
 */
export function readSchemaFile(baseDir: string, file: string, path: readonly (string | number)[], exactIntegers = false): avro.Schema {
  const absolute = resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    throw new CodecConfigError(path, `cannot read Avro schema ${absolute}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(exactIntegers ? quoteUnsafeIntegers(text) : text) as avro.Schema;
  } catch (error) {
    throw new CodecConfigError(path, `Avro schema ${absolute} is not JSON: ${(error as Error).message}`);
  }
}

/** Rewrites integer literals outside strings that a double cannot hold exactly as JSON strings. */
function quoteUnsafeIntegers(text: string): string {
  return text.replace(STRING_OR_NUMBER, (token) => {
    if (token.startsWith('"') || !/^-?\d+$/.test(token) || Number.isSafeInteger(Number(token))) return token;
    return `"${token}"`;
  });
}
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * Compiles a schema for decoding untrusted bytes. Differences from avsc's defaults, and why:
 * - `wrapUnions: 'auto'`: `["null","string"]` decodes to `null` or a string, as the same record
 *   decodes from JSON. A union whose branches JavaScript cannot tell apart (two records, a string
 *   and an enum) is read wrapped (`{ Name: value }`) and unwrapped by the plainer, so it gives
 *   the branch's value too; the Avro spec allows any union of distinct named types.
 * - longs: numbers while exact, decimal strings beyond ±2^53 (avsc would throw and lose the message);
 *   defaults too (read with `exactIntegers`).
 * - arrays and maps: a block count larger than the bytes left is rejected before any allocation.
 *   avsc trusts the count, so five garbage bytes can claim 2^31 items and exhaust the heap; and an
 *   array whose items can encode in zero bytes (`null`, an empty record) is refused at load time,
 *   as no byte count could bound it.
 * - `omitRecordMethods`: records carry no prototype methods that a field getter could hit.
 * Logical types are not registered, so `timestamp-millis` stays a number of milliseconds.
 */
export function compileDecodingType(schema: avro.Schema, path: readonly (string | number)[], label: string): avro.Type {
  let type: avro.Type;
  try {
    type = avro.Type.forSchema(schema, { wrapUnions: 'auto', omitRecordMethods: true, typeHook: guardedTypes });
  } catch (error) {
    throw new CodecConfigError(path, `invalid Avro schema ${label}: ${(error as Error).message}`);
  }
  const zeroSized = findZeroSizedItems(type, new Set());
  if (zeroSized !== undefined) {
    throw new CodecConfigError(path, `Avro schema ${label}: ${zeroSized} items can encode in zero bytes, so a message could claim any number of them`);
  }
  return type;
}

/** The avsc internals the guarded collection readers rely on (stable across avsc 5.x). */
interface Tap {
  buf: Buffer;
  pos: number;
  /** Arrays and maps open around the read (bounded-tap.ts). */
  depth: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
}
interface ItemsReader {
  _read(tap: Tap): unknown;
}

/** Refuses a block count that cannot fit in the bytes left, before allocating for it. */
function blockCount(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong(); // the block's byte size, which we do not need
  }
  const left = tap.buf.length - tap.pos;
  if (n > left) throw new Error(`a block of ${n} items cannot fit in the ${left} bytes left`);
  return n;
}

/**
 * How deep arrays and maps may nest in one record. Only a recursive schema (a tree: a record
 * whose array holds records of its own type) can nest deeper than it is written, and then each
 * level costs 2 bytes: 1 MB of them reads (and turns into plain values) far past the stack.
 */
export const MAX_AVRO_NESTING = 128;

function enter(tap: Tap): void {
  if (++tap.depth > MAX_AVRO_NESTING) throw new Error(`arrays and maps nested deeper than ${MAX_AVRO_NESTING} levels at byte ${tap.pos}`);
}

// Same decoding as avsc's ArrayType/MapType `_read`, plus the bounds. Resolvers copy `_read` from
// the reader type, so evolved schemas are guarded too.
class GuardedArrayType extends avro.types.ArrayType {
  _read(this: { itemsType: ItemsReader }, tap: Tap): unknown[] {
    enter(tap);
    const items = this.itemsType;
    const values: unknown[] = [];
    let n: number;
    while ((n = blockCount(tap)) !== 0) {
      while (n-- > 0) values.push(items._read(tap));
      if (tap.pos > tap.buf.length) break; // truncated: decode() reports it
    }
    tap.depth--;
    return values;
  }
}

class GuardedMapType extends avro.types.MapType {
  _read(this: { valuesType: ItemsReader }, tap: Tap): Record<string, unknown> {
    enter(tap);
    const values = this.valuesType;
    const map: Record<string, unknown> = {};
    let n: number;
    while ((n = blockCount(tap)) !== 0) {
      while (n-- > 0) {
        const key = tap.readString();
        const value = values._read(tap);
        if (key === '__proto__') Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
        else map[key] = value;
      }
      if (tap.pos > tap.buf.length) break;
    }
    tap.depth--;
    return map;
  }
}

// avsc encodes every field default once, when it compiles a record's writer, so `toBuffer` is
// needed for schemas whose longs have defaults (timestamps, `["long","null"]`, evolution).
const customLong = avro.types.LongType.__with(
  {
    fromBuffer: readZigZagVarint,
    toBuffer: writeZigZagVarint,
    fromJSON: (value: unknown) => value,
    toJSON: (value: unknown) => value,
    isValid: isLongValue,
    compare: (a: number | string, b: number | string) => {
      const x = BigInt(a);
      const y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    },
  },
  true, // hand us the raw varint bytes: no 8-byte repacking per long
);

function guardedTypes(schema: avro.Schema, opts: unknown): avro.Type | undefined {
  const kind = typeof schema === 'string' ? schema : (schema as { type?: unknown }).type;
  if (kind === 'long') return customLong;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  if (kind === 'array') return new GuardedArrayType(schema, opts);
  if (kind === 'map') return new GuardedMapType(schema, opts);
  return undefined;
}

/** A long as Sluice represents it: a safe integer, or a decimal string of a 64-bit integer (any size). */
function isLongValue(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  if (typeof value !== 'string' || !/^-?\d{1,20}$/.test(value)) return false;
  const n = BigInt(value);
  return BigInt.asIntN(64, n) === n;
}

/** Encodes a long (number or decimal string) as its zig-zag varint bytes: for field defaults. */
function writeZigZagVarint(value: number | string): Buffer {
  let n = BigInt.asUintN(64, (BigInt(value) << 1n) ^ (BigInt(value) < 0n ? -1n : 0n));
  const bytes: number[] = [];
  do {
    const low = Number(n & 0x7fn);
    n >>= 7n;
    bytes.push(n > 0n ? low | 0x80 : low);
  } while (n > 0n);
  return Buffer.from(bytes);
}

/** Decodes an Avro long (zig-zag varint, at most 10 bytes: bounded-tap.ts): a number while exact, else its decimal string. */
function readZigZagVarint(bytes: Buffer): number | string {
  if (bytes.length <= 7) {
    // 49 bits at most: exact in a double.
    let n = 0;
    let scale = 1;
    for (let i = 0; i < bytes.length; i++) {
      n += (bytes[i]! & 0x7f) * scale;
      scale *= 128;
    }
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  // 8 to 10 bytes: the low 28 bits and the high ones (at most 36) are each exact in a double, so
  // BigInt is needed only for a value beyond ±2^53 (a varint loop in BigInt took 8.7 µs a long).
  let low = 0;
  for (let i = 0, scale = 1; i < 4; i++, scale *= 128) low += (bytes[i]! & 0x7f) * scale;
  let high = 0;
  for (let i = 4, scale = 1; i < bytes.length; i++, scale *= 128) high += (bytes[i]! & 0x7f) * scale;
  const negative = low % 2 === 1;
  if (high < 2 ** 26) {
    const magnitude = high * 2 ** 27 + Math.floor(low / 2); // < 2^53: exact
    const value = negative ? -magnitude - 1 : magnitude;
    if (Number.isSafeInteger(value)) return value;
  }
  const magnitude = (BigInt(high) << 27n) | BigInt(Math.floor(low / 2));
  return (negative ? -magnitude - 1n : magnitude).toString();
}

/** The dotted name of an array whose items may be zero bytes long, if any. */
function findZeroSizedItems(type: avro.Type, seen: Set<avro.Type>): string | undefined {
  if (seen.has(type)) return undefined;
  seen.add(type);
  if (type instanceof avro.types.ArrayType) {
    if (minimumSize(type.itemsType, new Set()) === 0) return `array of ${type.itemsType.typeName}`;
    return findZeroSizedItems(type.itemsType, seen);
  }
  if (type instanceof avro.types.MapType) return findZeroSizedItems(type.valuesType as avro.Type, seen);
  if (type instanceof avro.types.RecordType) {
    for (const field of type.fields) {
      const found = findZeroSizedItems(field.type, seen);
      if (found !== undefined) return `${type.name ?? 'record'}.${field.name}: ${found}`;
    }
  }
  if (isUnion(type)) {
    for (const branch of type.types) {
      const found = findZeroSizedItems(branch, seen);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The fewest bytes a value of `type` can encode in (a recursive reference counts as one). */
function minimumSize(type: avro.Type, visiting: Set<avro.Type>): number {
  switch (type.typeName) {
    case 'null':
      return 0;
    case 'fixed':
      return (type as avro.types.FixedType).size;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'record':
    case 'error': {
      if (visiting.has(type)) return 1;
      visiting.add(type);
      let sum = 0;
      for (const field of (type as avro.types.RecordType).fields) sum += minimumSize(field.type, visiting);
      visiting.delete(type);
      return sum;
    }
    default:
      return 1; // boolean, int, long, string, bytes, enum, union index, array or map end marker
  }
}

function isUnion(type: avro.Type): type is avro.Type & { readonly types: avro.Type[] } {
  return type.typeName === 'union:unwrapped' || type.typeName === 'union:wrapped';
}
