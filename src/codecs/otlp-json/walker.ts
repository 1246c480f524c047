import { isContentAttribute } from '../otlp/content.ts';
import {
  newSpanRecord,
  setAttribute,
  setSpanTimes,
  SPAN_KINDS,
  spanKindName,
  STATUS_CODES,
  statusCodeName,
  type AttributeValue,
  type OtlpSpanRecord,
  type SpanEventRecord,
} from '../otlp/span-record.ts';

/**
 * Walks a parsed OTLP/JSON `ExportTraceServiceRequest` into the same span records as `otlp_proto`.
 *
 * OTLP/JSON (opentelemetry-proto docs/specification.md, "JSON Protobuf Encoding"): lowerCamelCase
 * keys, trace and span ids as hex (not protobuf-JSON base64), 64-bit integers as decimal strings or
 * numbers, enums as integers. As the Collector's own unmarshaler does, this also accepts the proto
 * field names (`resource_spans`) and enum names (`SPAN_KIND_CLIENT`), and ignores unknown keys
 * (the spec requires receivers to). Anything of the wrong type is an error naming its JSON path.
 */
export class OtlpJsonWalker {
  private readonly records: OtlpSpanRecord[] = [];

  constructor(private readonly keepContent: boolean) {}

  request(root: unknown): OtlpSpanRecord[] {
    const request = object(root, '<message>');
    const resourceSpans = list(field(request, 'resourceSpans', 'resource_spans'), 'resourceSpans');
    for (let i = 0; i < resourceSpans.length; i++) this.resourceSpans(resourceSpans[i], `resourceSpans[${i}]`);
    return this.records;
  }

  private resourceSpans(value: unknown, path: string): void {
    const resourceSpans = object(value, path);
    const resource: Record<string, AttributeValue> = {};
    const resourceValue = resourceSpans.resource;
    if (resourceValue !== undefined && resourceValue !== null) {
      const attributes = field(object(resourceValue, `${path}.resource`), 'attributes', 'attributes');
      this.attributes(attributes, resource, `${path}.resource.attributes`);
    }
    Object.freeze(resource);
    const scopeSpans = list(field(resourceSpans, 'scopeSpans', 'scope_spans'), `${path}.scopeSpans`);
    for (let j = 0; j < scopeSpans.length; j++) {
      const scopePath = `${path}.scopeSpans[${j}]`;
      const scopeSpan = object(scopeSpans[j], scopePath);
      const scopeValue = scopeSpan.scope;
      let name = '';
      let version = '';
      if (scopeValue !== undefined && scopeValue !== null) {
        const scope = object(scopeValue, `${scopePath}.scope`);
        name = string(scope.name, `${scopePath}.scope.name`);
        version = string(scope.version, `${scopePath}.scope.version`);
      }
      const scope = Object.freeze({ name, version });
      const spans = list(scopeSpan.spans, `${scopePath}.spans`);
      for (let k = 0; k < spans.length; k++) {
        const record = this.span(spans[k], `${scopePath}.spans[${k}]`);
        record.resource = resource;
        record.scope = scope;
        this.records.push(record);
      }
    }
  }

  private span(value: unknown, path: string): OtlpSpanRecord {
    const span = object(value, path);
    const record = newSpanRecord();
    record.trace_id = hexId(field(span, 'traceId', 'trace_id'), 32, `${path}.traceId`);
    record.span_id = hexId(field(span, 'spanId', 'span_id'), 16, `${path}.spanId`);
    record.parent_span_id = hexId(field(span, 'parentSpanId', 'parent_span_id'), 16, `${path}.parentSpanId`);
    record.name = string(span.name, `${path}.name`);
    record.kind = enumValue(span.kind, SPAN_KINDS, 'SPAN_KIND_', spanKindName, `${path}.kind`);
    nanos(field(span, 'startTimeUnixNano', 'start_time_unix_nano'), `${path}.startTimeUnixNano`);
    const startMs = scratchMs;
    const startSub = scratchSub;
    nanos(field(span, 'endTimeUnixNano', 'end_time_unix_nano'), `${path}.endTimeUnixNano`);
    setSpanTimes(record, startMs, startSub, scratchMs, scratchSub);
    this.attributes(span.attributes, record.attributes, `${path}.attributes`);
    const events = list(span.events, `${path}.events`);
    for (let i = 0; i < events.length; i++) record.events.push(this.event(events[i], `${path}.events[${i}]`));
    const statusValue = span.status;
    if (statusValue !== undefined && statusValue !== null) {
      const status = object(statusValue, `${path}.status`);
      // Exception text (see content.ts): validated, but kept only on request.
      const message = string(status.message, `${path}.status.message`);
      if (this.keepContent) record.status_message = message;
      record.status_code = enumValue(status.code, STATUS_CODES, 'STATUS_CODE_', statusCodeName, `${path}.status.code`);
    }
    return record;
  }

  private event(value: unknown, path: string): SpanEventRecord {
    const event = object(value, path);
    nanos(field(event, 'timeUnixNano', 'time_unix_nano'), `${path}.timeUnixNano`);
    const record: SpanEventRecord = { name: string(event.name, `${path}.name`), time_ms: scratchMs, attributes: {} };
    this.attributes(event.attributes, record.attributes, `${path}.attributes`);
    return record;
  }

  private attributes(value: unknown, target: Record<string, AttributeValue>, path: string): void {
    const attributes = list(value, path);
    for (let i = 0; i < attributes.length; i++) this.keyValue(attributes[i], target, `${path}[${i}]`, 0);
  }

  private keyValue(value: unknown, target: Record<string, AttributeValue>, path: string, depth: number): void {
    const keyValue = object(value, path);
    const key = string(keyValue.key, `${path}.key`);
    if (!this.keepContent && isContentAttribute(key)) return;
    setAttribute(target, key, this.anyValue(keyValue.value, `${path}.value`, depth));
  }

  /** An AnyValue object: exactly one of its keys, or none (empty → null). */
  private anyValue(value: unknown, path: string, depth: number): AttributeValue {
    if (value === undefined || value === null) return null;
    if (depth > MAX_VALUE_DEPTH) throw new JsonShapeError(`${path}: attribute values nested deeper than ${MAX_VALUE_DEPTH}`);
    const anyValue = object(value, path);
    let result: AttributeValue = null;
    let found: string | undefined;
    for (const key in anyValue) {
      const kind = ANY_VALUE_KEYS[key];
      if (kind === undefined) continue; // unknown keys are ignored
      if (found !== undefined) throw new JsonShapeError(`${path}: has both ${found} and ${key}; an AnyValue holds one`);
      found = key;
      const inner = anyValue[key];
      const at = `${path}.${key}`;
      switch (kind) {
        case 'string':
          result = string(inner, at);
          break;
        case 'bool':
          if (typeof inner !== 'boolean') throw typeError(at, 'a boolean', inner);
          result = inner;
          break;
        case 'int':
          result = int64(inner, at);
          break;
        case 'double':
          result = double(inner, at);
          break;
        case 'bytes':
          result = base64(inner, at);
          break;
        case 'array': {
          const values = list(object(inner, at).values, `${at}.values`);
          const array: AttributeValue[] = [];
          for (let i = 0; i < values.length; i++) array.push(this.anyValue(values[i], `${at}.values[${i}]`, depth + 1));
          result = array;
          break;
        }
        case 'kvlist': {
          const values = list(object(inner, at).values, `${at}.values`);
          const map: Record<string, AttributeValue> = {};
          for (let i = 0; i < values.length; i++) this.keyValue(values[i], map, `${at}.values[${i}]`, depth + 1);
          result = map;
          break;
        }
      }
    }
    return result;
  }
}

/** A shape error; its message is the precise, content-free detail (a JSON path and types). */
export class JsonShapeError extends Error {}

const MAX_VALUE_DEPTH = 32;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const ANY_VALUE_KEYS: Readonly<Record<string, 'string' | 'bool' | 'int' | 'double' | 'bytes' | 'array' | 'kvlist'>> = Object.assign(
  Object.create(null) as Record<string, never>,
  {
    stringValue: 'string',
    string_value: 'string',
    boolValue: 'bool',
    bool_value: 'bool',
    intValue: 'int',
    int_value: 'int',
    doubleValue: 'double',
    double_value: 'double',
    bytesValue: 'bytes',
    bytes_value: 'bytes',
    arrayValue: 'array',
    array_value: 'array',
    kvlistValue: 'kvlist',
    kvlist_value: 'kvlist',
  } as const,
);

function field(object: Record<string, unknown>, camel: string, snake: string): unknown {
  const value = object[camel];
  return value === undefined ? object[snake] : value;
}

function object(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw typeError(path, 'an object', value);
  return value as Record<string, unknown>;
}

/** A repeated field; absent or null is empty, as protobuf-JSON allows. */
function list(value: unknown, path: string): readonly unknown[] {
  if (value === undefined || value === null) return EMPTY;
  if (!Array.isArray(value)) throw typeError(path, 'an array', value);
  return value;
}
const EMPTY: readonly unknown[] = Object.freeze([]);

function string(value: unknown, path: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw typeError(path, 'a string', value);
  return value;
}

function hexId(value: unknown, digits: number, path: string): string {
  const id = string(value, path);
  if (id === '') return '';
  if (id.length !== digits || !HEX.test(id)) {
    throw new JsonShapeError(`${path}: expected ${digits} hex digits, got ${id.length} characters${HEX.test(id) ? '' : ' that are not all hex'}`);
  }
  return id.toLowerCase();
}
const HEX = /^[0-9a-fA-F]*$/;

function enumValue(value: unknown, names: readonly string[], prefix: string, byNumber: (n: number) => string, path: string): string {
  if (value === undefined || value === null) return byNumber(0);
  if (typeof value === 'number' && Number.isInteger(value)) return byNumber(value);
  if (typeof value === 'string' && value.startsWith(prefix)) {
    const name = value.slice(prefix.length);
    if (names.includes(name)) return name;
  }
  throw new JsonShapeError(`${path}: expected an enum number or ${prefix}* name, got ${typeof value === 'string' ? 'an unknown name' : describe(value)}`);
}

// The last instant `nanos` read, as (whole ms, remaining ns): module scratch instead of a tuple per call.
let scratchMs = 0;
let scratchSub = 0;

/**
 * A fixed64 nanosecond time (absent: 0): a decimal string (exact) or a JSON number (exact only
 * below 2^53 ns, i.e. before 1970-04-15; encoders write strings for that reason).
 */
function nanos(value: unknown, path: string): void {
  if (value === undefined || value === null) {
    scratchMs = 0;
    scratchSub = 0;
    return;
  }
  if (typeof value === 'string') {
    if (!DIGITS.test(value)) throw new JsonShapeError(`${path}: expected a decimal string of nanoseconds`);
    const length = value.length;
    scratchMs = length > 6 ? Number(value.slice(0, length - 6)) : 0;
    scratchSub = Number(length > 6 ? value.slice(length - 6) : value);
    return;
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    scratchMs = Math.floor(value / 1e6);
    scratchSub = value - scratchMs * 1e6;
    return;
  }
  throw typeError(path, 'nanoseconds as a decimal string or a non-negative integer', value);
}
const DIGITS = /^\d{1,20}$/;

function int64(value: unknown, path: string): number | string {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new JsonShapeError(`${path}: expected an integer, got a fraction`);
    return value;
  }
  if (typeof value === 'string' && SIGNED_DIGITS.test(value)) {
    const big = BigInt(value);
    if (big >= -MAX_SAFE && big <= MAX_SAFE) return Number(big);
    if (BigInt.asIntN(64, big) !== big) throw new JsonShapeError(`${path}: integer out of the int64 range`);
    return big.toString();
  }
  throw typeError(path, 'an integer or a decimal string', value);
}
const SIGNED_DIGITS = /^-?\d{1,20}$/;

function double(value: unknown, path: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    // protobuf-JSON writes the non-finite values as strings, and accepts numbers in strings.
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  }
  throw typeError(path, 'a number', value);
}

/** Bytes: base64 (standard or URL-safe, padding optional), normalised to standard padded base64. */
function base64(value: unknown, path: string): string {
  if (typeof value !== 'string' || !BASE64.test(value)) throw typeError(path, 'base64 text', value);
  return Buffer.from(value, 'base64').toString('base64');
}
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function typeError(path: string, expected: string, value: unknown): JsonShapeError {
  return new JsonShapeError(`${path}: expected ${expected}, got ${describe(value)}`);
}

/** The JSON type of a value, never the value itself. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}
