/**
 * The record the OTLP decoders (`otlp_proto`, `otlp_json`) make of each span. Both produce exactly
 * this shape, with the same values for the same span, so a pipeline does not depend on the encoding.
 *
 * - Attribute maps are keyed by the full dotted attribute name (`gen_ai.request.model`); pipelines
 *   address them with bracket syntax, e.g. `attributes["gen_ai.usage.input_tokens"]`.
 * - Attribute values: string, boolean, number (double, or int64 while exact), decimal string (int64
 *   beyond ±2^53), base64 string (bytes), array, object (kvlist), null (empty AnyValue).
 * - `resource` and `scope` are shared (and frozen) between the spans of one ResourceSpans / ScopeSpans.
 * - Times are epoch milliseconds, floored; `duration_seconds` is computed from the nanosecond values.
 * - Kept per event: name, time and attributes, so a pipeline can take e.g. time-to-first-token
 *   from an event's `time_ms - start_time_ms` when the instrumentation records it as an event
 *   (servers such as vLLM record it as the span attribute `gen_ai.latency.time_to_first_token`).
 * - Not kept: trace_state, flags, links, schema URLs, dropped-* counts, scope attributes.
 * - Content attributes are dropped everywhere (resource, span, event) unless configured (see content.ts).
 */
export type OtlpSpanRecord = {
  resource: Readonly<Record<string, AttributeValue>>;
  scope: Readonly<{ name: string; version: string }>;
  trace_id: string; // 32 lowercase hex digits ('' if absent)
  span_id: string; // 16 lowercase hex digits ('' if absent)
  parent_span_id: string; // 16 lowercase hex digits, '' for a root span
  name: string;
  kind: string; // SpanKind without its prefix: 'CLIENT', ...; an unknown value as its number, e.g. '7'
  start_time_ms: number;
  end_time_ms: number;
  duration_seconds: number;
  status_code: string; // 'UNSET' | 'OK' | 'ERROR'; an unknown value as its number
  status_message: string;
  attributes: Record<string, AttributeValue>;
  events: SpanEventRecord[];
};

export type SpanEventRecord = {
  name: string;
  time_ms: number;
  attributes: Record<string, AttributeValue>;
};

export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

const NO_ATTRIBUTES: Readonly<Record<string, AttributeValue>> = Object.freeze({});
const NO_SCOPE: Readonly<{ name: string; version: string }> = Object.freeze({ name: '', version: '' });

/** A fresh span record; every key is present from the start so all records share one shape. */
export function newSpanRecord(): OtlpSpanRecord {
  return {
    resource: NO_ATTRIBUTES,
    scope: NO_SCOPE,
    trace_id: '',
    span_id: '',
    parent_span_id: '',
    name: '',
    kind: 'UNSPECIFIED',
    start_time_ms: 0,
    end_time_ms: 0,
    duration_seconds: 0,
    status_code: 'UNSET',
    status_message: '',
    attributes: {},
    events: [],
  };
}

// opentelemetry-proto trace.proto: Span.SpanKind and Status.StatusCode, by number.
export const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
export const STATUS_CODES = ['UNSET', 'OK', 'ERROR'] as const;

export function spanKindName(value: number): string {
  return SPAN_KINDS[value] ?? String(value);
}

export function statusCodeName(value: number): string {
  return STATUS_CODES[value] ?? String(value);
}

/**
 * Sets an attribute; `__proto__` is defined as an own property rather than assigned, which would
 * replace the map's prototype.
 */
export function setAttribute(target: Record<string, AttributeValue>, key: string, value: AttributeValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Sets every time field from two instants given as (whole ms, remaining ns) pairs: exact, no BigInt. */
export function setSpanTimes(record: OtlpSpanRecord, startMs: number, startSubMs: number, endMs: number, endSubMs: number): void {
  record.start_time_ms = startMs;
  record.end_time_ms = endMs;
  record.duration_seconds = ((endMs - startMs) * 1e6 + (endSubMs - startSubMs)) / 1e9;
}

/**
 * A fixed64 nanosecond time (hi and lo 32-bit words) as whole milliseconds. hi·2^32 = hi·4294·10^6
 * + hi·967296, and hi·967296 + lo < 2^53, so this is exact where (hi·2^32 + lo) / 10^6 would not be.
 */
export function fixed64NanosToMs(hi: number, lo: number): number {
  return hi * 4294 + Math.floor((hi * 967_296 + lo) / 1e6);
}

/** The nanoseconds left over after `fixed64NanosToMs`. */
export function fixed64NanosSubMs(hi: number, lo: number): number {
  return (hi * 967_296 + lo) % 1e6;
}
