import { AnyValue, ArrayValue, ExportTraceServiceRequest, InstrumentationScope, KeyValue, KeyValueList, Resource, ResourceSpans, ScopeSpans, Span, SpanEvent, Status, type FieldDef } from '../codecs/otlp/wire.ts';

/**
 * Encodes an OTLP/JSON ExportTraceServiceRequest (the encoding the Collector's Kafka exporter
 * writes with `otlp_json`) into its protobuf bytes, so a pipeline test can write spans once as
 * readable JSON and feed an `otlp_proto` pipeline the bytes its decoder reads in production.
 * Field numbers come from the same definitions the decoder reads with (codecs/otlp/wire.ts).
 * OTLP/JSON rules: lowerCamelCase names, ids as hex, 64-bit integers as decimal strings, enums as
 * integers. Test tooling, not a hot path: it builds a tree of buffers.
 */
export function otlpJsonToProto(request: Record<string, unknown>): Buffer {
  return message(request, (m, out) => repeated(m.resourceSpans, ExportTraceServiceRequest.resource_spans, resourceSpans, out));
}

/** Link is not decoded by Sluice (no definitions in wire.ts); its upstream field numbers. */
const Link = { trace_id: [1, 2], span_id: [2, 2], trace_state: [3, 2], attributes: [4, 2], dropped_attributes_count: [5, 0], flags: [6, 5] } as const satisfies Record<string, FieldDef>;

type Obj = Record<string, unknown>;
type Part = Buffer[];

function resourceSpans(m: Obj, out: Part): void {
  if (isObj(m.resource)) out.push(embedded(ResourceSpans.resource, message(m.resource, resource)));
  repeated(m.scopeSpans, ResourceSpans.scope_spans, scopeSpans, out);
  str(m.schemaUrl, ResourceSpans.schema_url, out);
}

function resource(m: Obj, out: Part): void {
  repeated(m.attributes, Resource.attributes, keyValue, out);
  varint(m.droppedAttributesCount, Resource.dropped_attributes_count, out);
}

function scopeSpans(m: Obj, out: Part): void {
  if (isObj(m.scope)) out.push(embedded(ScopeSpans.scope, message(m.scope, scope)));
  repeated(m.spans, ScopeSpans.spans, span, out);
  str(m.schemaUrl, ScopeSpans.schema_url, out);
}

function scope(m: Obj, out: Part): void {
  str(m.name, InstrumentationScope.name, out);
  str(m.version, InstrumentationScope.version, out);
  repeated(m.attributes, InstrumentationScope.attributes, keyValue, out);
}

function span(m: Obj, out: Part): void {
  hex(m.traceId, Span.trace_id, out);
  hex(m.spanId, Span.span_id, out);
  str(m.traceState, Span.trace_state, out);
  hex(m.parentSpanId, Span.parent_span_id, out);
  str(m.name, Span.name, out);
  varint(m.kind, Span.kind, out);
  fixed64(m.startTimeUnixNano, Span.start_time_unix_nano, out);
  fixed64(m.endTimeUnixNano, Span.end_time_unix_nano, out);
  repeated(m.attributes, Span.attributes, keyValue, out);
  varint(m.droppedAttributesCount, Span.dropped_attributes_count, out);
  repeated(m.events, Span.events, event, out);
  varint(m.droppedEventsCount, Span.dropped_events_count, out);
  repeated(m.links, Span.links, link, out);
  varint(m.droppedLinksCount, Span.dropped_links_count, out);
  if (isObj(m.status)) out.push(embedded(Span.status, message(m.status, status)));
  fixed32(m.flags, Span.flags, out);
}

function event(m: Obj, out: Part): void {
  fixed64(m.timeUnixNano, SpanEvent.time_unix_nano, out);
  str(m.name, SpanEvent.name, out);
  repeated(m.attributes, SpanEvent.attributes, keyValue, out);
  varint(m.droppedAttributesCount, SpanEvent.dropped_attributes_count, out);
}

function link(m: Obj, out: Part): void {
  hex(m.traceId, Link.trace_id, out);
  hex(m.spanId, Link.span_id, out);
  str(m.traceState, Link.trace_state, out);
  repeated(m.attributes, Link.attributes, keyValue, out);
  varint(m.droppedAttributesCount, Link.dropped_attributes_count, out);
  fixed32(m.flags, Link.flags, out);
}

function status(m: Obj, out: Part): void {
  str(m.message, Status.message, out);
  varint(m.code, Status.code, out);
}

function keyValue(m: Obj, out: Part): void {
  str(m.key, KeyValue.key, out);
  if (isObj(m.value)) out.push(embedded(KeyValue.value, message(m.value, anyValue)));
}

function anyValue(m: Obj, out: Part): void {
  // Exactly one member of the oneof is present; an empty string or zero is still written (a set oneof).
  if (typeof m.stringValue === 'string') out.push(embedded(AnyValue.string_value, Buffer.from(m.stringValue, 'utf8')));
  else if (typeof m.boolValue === 'boolean') out.push(tag(AnyValue.bool_value), varintBytes(m.boolValue ? 1n : 0n));
  else if (m.intValue !== undefined) out.push(tag(AnyValue.int_value), varintBytes(BigInt.asUintN(64, BigInt(m.intValue as string | number))));
  else if (m.doubleValue !== undefined) {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(Number(m.doubleValue));
    out.push(tag(AnyValue.double_value), bytes);
  } else if (isObj(m.arrayValue)) out.push(embedded(AnyValue.array_value, message(m.arrayValue, (a, o) => repeated(a.values, ArrayValue.values, anyValue, o))));
  else if (isObj(m.kvlistValue)) out.push(embedded(AnyValue.kvlist_value, message(m.kvlistValue, (l, o) => repeated(l.values, KeyValueList.values, keyValue, o))));
  else if (typeof m.bytesValue === 'string') out.push(embedded(AnyValue.bytes_value, Buffer.from(m.bytesValue, 'base64')));
}

function message(m: Obj, write: (m: Obj, out: Part) => void): Buffer {
  const out: Part = [];
  write(m, out);
  return Buffer.concat(out);
}

function repeated(list: unknown, field: FieldDef, write: (m: Obj, out: Part) => void, out: Part): void {
  if (!Array.isArray(list)) return;
  for (const item of list) if (isObj(item)) out.push(embedded(field, message(item, write)));
}

function str(value: unknown, field: FieldDef, out: Part): void {
  if (typeof value === 'string' && value !== '') out.push(embedded(field, Buffer.from(value, 'utf8')));
}

/** Ids are hex in OTLP/JSON, bytes on the wire. */
function hex(value: unknown, field: FieldDef, out: Part): void {
  if (typeof value === 'string' && value !== '') out.push(embedded(field, Buffer.from(value, 'hex')));
}

function varint(value: unknown, field: FieldDef, out: Part): void {
  if (value === undefined || value === null || Number(value) === 0) return;
  out.push(tag(field), varintBytes(BigInt.asUintN(64, BigInt(value as number | string))));
}

function fixed64(value: unknown, field: FieldDef, out: Part): void {
  if (value === undefined || value === null) return;
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value as number | string)));
  out.push(tag(field), bytes);
}

function fixed32(value: unknown, field: FieldDef, out: Part): void {
  if (value === undefined || value === null || Number(value) === 0) return;
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(Number(value) >>> 0);
  out.push(tag(field), bytes);
}

function embedded(field: FieldDef, body: Buffer): Buffer {
  return Buffer.concat([tag(field), varintBytes(BigInt(body.length)), body]);
}

function tag([number, wireType]: FieldDef): Buffer {
  return varintBytes(BigInt((number << 3) | wireType));
}

function varintBytes(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
