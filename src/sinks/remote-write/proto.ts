/**
 * Prometheus remote-write 1.0 wire messages (prometheus/prompb types.proto +
 * remote.proto), defined inline so there is no generated code or .proto file
 * to ship. Only field numbers and types matter on the wire; they match upstream.
 */
import protobuf from 'protobufjs';
import type { Label } from '../../core/types.ts';

// Deliberate deviation in one field *name* (never in number or type): upstream
// calls Sample field 2 `timestamp`. Naming it `timestamp_ms` (camel-cased by
// protobufjs to `timestampMs`) lets the encoder read our core `Sample` objects
// directly, so batching never copies a sample into a wire-shaped object.
// Likewise `Label { name, value }` is already the core `Label` shape.
const REMOTE_WRITE_PROTO = `
syntax = "proto3";
package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
  // Field 2 is reserved upstream (was a Cortex-only field).
  repeated MetricMetadata metadata = 3;
}

message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
  // Fields 3 (exemplars) and 4 (native histograms) are not produced by Sluice;
  // the decoder skips them as unknown fields.
}

message Label {
  string name = 1;
  string value = 2;
}

message Sample {
  double value = 1;
  int64 timestamp_ms = 2;  // upstream name: timestamp (milliseconds since epoch)
}

message MetricMetadata {
  enum MetricType {
    UNKNOWN = 0;
    COUNTER = 1;
    GAUGE = 2;
    HISTOGRAM = 3;
    GAUGEHISTOGRAM = 4;
    SUMMARY = 5;
    INFO = 6;
    STATESET = 7;
  }
  MetricType type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}
`;

const root = protobuf.parse(REMOTE_WRITE_PROTO).root;
const WriteRequest = root.lookupType('prometheus.WriteRequest');

/** One point as encoded: a core `Sample` satisfies this without conversion. */
export interface WirePoint {
  readonly value: number;
  /** Integer milliseconds since the epoch; int64 on the wire, so values beyond 2^32 are fine. */
  readonly timestampMs: number;
}

/** One series as encoded: its (sorted, validated) labels and its points in timestamp order. */
export interface WireSeries {
  readonly labels: readonly Label[];
  readonly samples: readonly WirePoint[];
}

export interface WireMetadata {
  readonly type: string;
  readonly metricFamilyName: string;
  readonly help: string;
  readonly unit: string;
}

export interface DecodedWriteRequest {
  readonly timeseries: WireSeries[];
  readonly metadata: WireMetadata[];
}

/**
 * Serialises a WriteRequest. Series are written exactly as given: grouping,
 * ordering and validation are the caller's job (see encode.ts), which keeps
 * this a pure wire-format function.
 */
export function encodeWriteRequest(series: readonly WireSeries[]): Uint8Array {
  // protobufjs' generated encoder only reads known field names, so extra
  // properties on the inputs (e.g. a core Sample's `labels`) are ignored.
  return WriteRequest.encode({ timeseries: series }).finish();
}

/** Parses a WriteRequest (uncompressed protobuf). Used by tests and test receivers. */
export function decodeWriteRequest(bytes: Uint8Array): DecodedWriteRequest {
  const message = WriteRequest.decode(bytes);
  // longs: Number turns int64 into JS numbers (exact up to 2^53 ms, far past any
  // real timestamp); enums: String names metadata types; defaults fills empty
  // proto3 fields so a zero value or empty string reads back as such.
  const plain = WriteRequest.toObject(message, {
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
  }) as DecodedWriteRequest;
  return plain;
}
