/**
 * The remote-write 2.0 io.prometheus.write.v2.Request, defined inline for protobufjs (field
 * numbers and types from Prometheus v0.316.0's prompb/io/prometheus/write/v2/types.proto;
 * exemplars are not produced by Sluice and left out). Decoding only: the sender writes 2.0 with
 * wire-v2.ts and native-histogram.ts; this is the independent reading that tests and test
 * receivers use.
 */
import { uncompressSync } from 'snappy';
import protobuf from 'protobufjs';
import type { MetricType } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';

const REMOTE_WRITE_V2_PROTO = `
syntax = "proto3";
package io.prometheus.write.v2;

message Request {
  repeated string symbols = 4;
  repeated TimeSeries timeseries = 5;
}
message TimeSeries {
  repeated uint32 labels_refs = 1;
  repeated Sample samples = 2;
  repeated Histogram histograms = 3;
  Metadata metadata = 5;
}
message Histogram {
  oneof count {
    uint64 count_int = 1;
    double count_float = 2;
  }
  double sum = 3;
  sint32 schema = 4;
  double zero_threshold = 5;
  oneof zero_count {
    uint64 zero_count_int = 6;
    double zero_count_float = 7;
  }
  repeated BucketSpan negative_spans = 8;
  repeated sint64 negative_deltas = 9;
  repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11;
  repeated sint64 positive_deltas = 12;
  repeated double positive_counts = 13;
  int32 reset_hint = 14;
  int64 timestamp = 15;
  repeated double custom_values = 16;
  int64 start_timestamp = 17;
}
message BucketSpan {
  sint32 offset = 1;
  uint32 length = 2;
}
message Sample {
  double value = 1;
  int64 timestamp = 2;
  int64 start_timestamp = 3;
}
message Metadata {
  enum MetricType {
    METRIC_TYPE_UNSPECIFIED = 0;
    METRIC_TYPE_COUNTER = 1;
    METRIC_TYPE_GAUGE = 2;
    METRIC_TYPE_HISTOGRAM = 3;
    METRIC_TYPE_GAUGEHISTOGRAM = 4;
    METRIC_TYPE_SUMMARY = 5;
    METRIC_TYPE_INFO = 6;
    METRIC_TYPE_STATESET = 7;
  }
  MetricType type = 1;
  uint32 help_ref = 3;
  uint32 unit_ref = 4;
}
`;

const Request = protobuf.parse(REMOTE_WRITE_V2_PROTO).root.lookupType('io.prometheus.write.v2.Request');

interface RawRequest {
  symbols: string[];
  timeseries: {
    labelsRefs: number[];
    samples: { value: number; timestamp: number; startTimestamp: number }[];
    histograms: RawHistogram[];
    metadata?: { type: number; helpRef: number; unitRef: number } | null;
  }[];
}

interface RawHistogram {
  countInt?: number;
  countFloat?: number;
  sum: number;
  schema: number;
  zeroThreshold: number;
  zeroCountInt?: number;
  zeroCountFloat?: number;
  negativeSpans: { offset: number; length: number }[];
  negativeDeltas: number[];
  negativeCounts: number[];
  positiveSpans: { offset: number; length: number }[];
  positiveDeltas: number[];
  positiveCounts: number[];
  resetHint: number;
  timestamp: number;
  customValues: number[];
  startTimestamp: number;
}

/** One decoded Histogram message, its fields as sent (which form of each oneof included). */
export interface DecodedV2Histogram {
  readonly count: { readonly int: number } | { readonly float: number } | undefined;
  readonly sum: number;
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: { readonly int: number } | { readonly float: number } | undefined;
  readonly negativeSpans: { offset: number; length: number }[];
  readonly negativeDeltas: number[];
  readonly negativeCounts: number[];
  readonly positiveSpans: { offset: number; length: number }[];
  readonly positiveDeltas: number[];
  readonly positiveCounts: number[];
  readonly resetHint: number;
  readonly timestampMs: number;
  readonly customValues: number[];
  readonly startTimestampMs: number;
}

/** One decoded series, with its symbol references resolved. */
export interface DecodedV2Series {
  readonly labels: Label[];
  readonly samples: { value: number; timestampMs: number; startTimestampMs: number }[];
  /** Native histograms; undefined when the series carried none. */
  readonly histograms?: DecodedV2Histogram[];
  /** undefined when the series carried no metadata (type unspecified, no help or unit). */
  readonly metadata: { type: MetricType | 'unspecified' | 'other'; help: string; unit: string } | undefined;
}

const TYPES: Readonly<Record<number, MetricType | 'unspecified'>> = { 0: 'unspecified', 1: 'counter', 2: 'gauge', 3: 'histogram', 5: 'summary' };

/** Parses a snappy-compressed 2.0 request; throws on a dangling symbol reference. */
export function decodeV2RequestBody(body: Uint8Array): { symbols: string[]; series: DecodedV2Series[] } {
  const raw = Request.toObject(Request.decode(uncompressSync(body) as Buffer), {
    longs: Number,
    enums: Number,
    defaults: true,
    arrays: true,
  }) as RawRequest;
  const symbol = (ref: number): string => {
    const s = raw.symbols[ref];
    if (s === undefined) throw new Error(`symbol reference ${ref} is out of range (${raw.symbols.length} symbols)`);
    return s;
  };
  const series = raw.timeseries.map((ts): DecodedV2Series => {
    const labels: Label[] = [];
    for (let i = 0; i + 1 < ts.labelsRefs.length; i += 2) labels.push({ name: symbol(ts.labelsRefs[i]!), value: symbol(ts.labelsRefs[i + 1]!) });
    const m = ts.metadata;
    const metadata =
      m === undefined || m === null || (m.type === 0 && m.helpRef === 0 && m.unitRef === 0)
        ? undefined
        : { type: TYPES[m.type] ?? ('other' as const), help: symbol(m.helpRef), unit: symbol(m.unitRef) };
    return {
      labels,
      samples: ts.samples.map((s) => ({ value: s.value, timestampMs: s.timestamp, startTimestampMs: s.startTimestamp })),
      histograms: ts.histograms.length === 0 ? undefined : ts.histograms.map(decodedHistogram),
      metadata,
    };
  });
  return { symbols: raw.symbols, series };
}

function decodedHistogram(h: RawHistogram): DecodedV2Histogram {
  const oneof = (int: number | undefined, float: number | undefined) =>
    int !== undefined ? { int } : float !== undefined ? { float } : undefined;
  return {
    count: oneof(h.countInt, h.countFloat),
    sum: h.sum,
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: oneof(h.zeroCountInt, h.zeroCountFloat),
    negativeSpans: h.negativeSpans,
    negativeDeltas: h.negativeDeltas,
    negativeCounts: h.negativeCounts,
    positiveSpans: h.positiveSpans,
    positiveDeltas: h.positiveDeltas,
    positiveCounts: h.positiveCounts,
    resetHint: h.resetHint,
    timestampMs: h.timestamp,
    customValues: h.customValues,
    startTimestampMs: h.startTimestamp,
  };
}
