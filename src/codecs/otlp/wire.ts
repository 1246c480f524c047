/**
 * Sluice's own definitions of the OTLP trace messages it reads: field numbers and wire types as in
 * open-telemetry/opentelemetry-proto (collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
 * resource/v1/resource.proto, common/v1/common.proto). `ExportTraceServiceRequest` and `TracesData`
 * (what the Collector's Kafka exporter marshals) are the same on the wire: `resource_spans = 1`.
 *
 * Each entry is [field number, wire type]. A known field that arrives with another wire type is
 * rejected as malformed: a conforming protobuf parser would keep it as an unknown field and carry
 * on, but for these messages it can only mean corruption, and a span silently missing its times or
 * ids would be worse than a dead-lettered message. Fields not listed are skipped, as protobuf
 * requires, so newer producers (new fields) decode fine.
 */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

export type FieldDef = readonly [number: number, wireType: number];

export const ExportTraceServiceRequest = {
  resource_spans: [1, LEN],
} as const satisfies Record<string, FieldDef>;

export const ResourceSpans = {
  resource: [1, LEN],
  scope_spans: [2, LEN],
  schema_url: [3, LEN],
} as const satisfies Record<string, FieldDef>;

export const Resource = {
  attributes: [1, LEN],
  dropped_attributes_count: [2, VARINT],
  entity_refs: [3, LEN],
} as const satisfies Record<string, FieldDef>;

export const ScopeSpans = {
  scope: [1, LEN],
  spans: [2, LEN],
  schema_url: [3, LEN],
} as const satisfies Record<string, FieldDef>;

export const InstrumentationScope = {
  name: [1, LEN],
  version: [2, LEN],
  attributes: [3, LEN],
  dropped_attributes_count: [4, VARINT],
} as const satisfies Record<string, FieldDef>;

export const Span = {
  trace_id: [1, LEN],
  span_id: [2, LEN],
  trace_state: [3, LEN],
  parent_span_id: [4, LEN],
  name: [5, LEN],
  kind: [6, VARINT],
  start_time_unix_nano: [7, I64],
  end_time_unix_nano: [8, I64],
  attributes: [9, LEN],
  dropped_attributes_count: [10, VARINT],
  events: [11, LEN],
  dropped_events_count: [12, VARINT],
  links: [13, LEN],
  dropped_links_count: [14, VARINT],
  status: [15, LEN],
  flags: [16, I32],
} as const satisfies Record<string, FieldDef>;

export const SpanEvent = {
  time_unix_nano: [1, I64],
  name: [2, LEN],
  attributes: [3, LEN],
  dropped_attributes_count: [4, VARINT],
} as const satisfies Record<string, FieldDef>;

export const Status = {
  message: [2, LEN],
  code: [3, VARINT],
} as const satisfies Record<string, FieldDef>;

export const KeyValue = {
  key: [1, LEN],
  value: [2, LEN],
} as const satisfies Record<string, FieldDef>;

export const AnyValue = {
  string_value: [1, LEN],
  bool_value: [2, VARINT],
  int_value: [3, VARINT],
  double_value: [4, I64],
  array_value: [5, LEN],
  kvlist_value: [6, LEN],
  bytes_value: [7, LEN],
} as const satisfies Record<string, FieldDef>;

export const ArrayValue = {
  values: [1, LEN],
} as const satisfies Record<string, FieldDef>;

export const KeyValueList = {
  values: [1, LEN],
} as const satisfies Record<string, FieldDef>;

/**
 * Per message: field number → [field name, wire type], for the decoder's switch-free lookups and
 * its error details ("field 7 start_time_unix_nano").
 */
export type FieldTable = ReadonlyArray<readonly [name: string, wireType: number] | undefined>;

export function fieldTable(message: Record<string, FieldDef>): FieldTable {
  const table: (readonly [string, number] | undefined)[] = [];
  for (const [name, [number, wireType]] of Object.entries(message)) table[number] = [name, wireType];
  return table;
}
