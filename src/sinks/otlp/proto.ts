/**
 * The OTLP metrics messages Sluice sends and reads back (opentelemetry-proto
 * collector/metrics/v1 and metrics/v1), defined inline like remote-write's
 * proto.ts. Only the fields Sluice writes are declared; numbers and types match upstream.
 *
 * Why not @opentelemetry/otlp-transformer's ProtobufMetricsSerializer: it serialises the SDK's
 * ResourceMetrics (sdk-metrics DataPoints with HrTime), which has no Summary type and no data
 * point flags, so neither summaries nor stale points (FLAG_NO_RECORDED_VALUE) could be sent, and
 * every point would be copied into SDK shapes first. protobufjs is already a dependency.
 */
import protobuf from 'protobufjs';

const OTLP_METRICS_PROTO = `
syntax = "proto3";
package otlp;

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }

message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; }

message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }

message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; Summary summary = 11; }
}

enum AggregationTemporality { AGGREGATION_TEMPORALITY_UNSPECIFIED = 0; AGGREGATION_TEMPORALITY_DELTA = 1; AGGREGATION_TEMPORALITY_CUMULATIVE = 2; }

message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; AggregationTemporality aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; AggregationTemporality aggregation_temporality = 2; }
message Summary { repeated SummaryDataPoint data_points = 1; }

message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  uint32 flags = 8;
}

message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  uint32 flags = 10;
}

message SummaryDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  double sum = 5;
  message ValueAtQuantile { double quantile = 1; double value = 2; }
  repeated ValueAtQuantile quantile_values = 6;
  uint32 flags = 8;
}
`;

const root = protobuf.parse(OTLP_METRICS_PROTO).root;
export const ExportMetricsServiceRequest = root.lookupType('otlp.ExportMetricsServiceRequest');
const ExportMetricsServiceResponse = root.lookupType('otlp.ExportMetricsServiceResponse');

/** AggregationTemporality.CUMULATIVE: every Sluice counter and histogram is a running total since its start time. */
export const CUMULATIVE = 2;
/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the series ended (Prometheus writes a stale marker). */
export const FLAG_NO_RECORDED_VALUE = 1;

export interface PartialSuccess {
  readonly rejectedDataPoints: number;
  readonly errorMessage: string;
}

/**
 * Reads the partial_success of an ExportMetricsServiceResponse body (protobuf or JSON). An empty
 * or unreadable body is full success: the spec makes the message optional, and a 2xx is an
 * acceptance whatever else the body holds.
 */
export function readPartialSuccess(body: Uint8Array, json: boolean): PartialSuccess | undefined {
  if (body.length === 0) return undefined;
  let plain: { partialSuccess?: { rejectedDataPoints?: number | string; errorMessage?: string } };
  try {
    plain = json
      ? (JSON.parse(new TextDecoder().decode(body)) as typeof plain)
      : (ExportMetricsServiceResponse.toObject(ExportMetricsServiceResponse.decode(body), { longs: Number }) as typeof plain);
  } catch {
    return undefined;
  }
  const partial = plain?.partialSuccess;
  if (partial === undefined || partial === null) return undefined;
  const rejected = Number(partial.rejectedDataPoints ?? 0);
  const errorMessage = typeof partial.errorMessage === 'string' ? partial.errorMessage : '';
  if (!(rejected > 0) && errorMessage === '') return undefined;
  return { rejectedDataPoints: Number.isSafeInteger(rejected) && rejected > 0 ? rejected : 0, errorMessage };
}

/** Decodes a request body (uncompressed protobuf) to plain OTLP/JSON-shaped objects; for tests and test receivers. */
export function decodeExportRequest(bytes: Uint8Array): Record<string, unknown> {
  return ExportMetricsServiceRequest.toObject(ExportMetricsServiceRequest.decode(bytes), {
    longs: String,
    enums: Number,
    json: true,
  });
}
