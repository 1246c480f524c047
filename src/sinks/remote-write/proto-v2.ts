/**
 * The remote-write 2.0 io.prometheus.write.v2.Request, defined inline for protobufjs (field
 * numbers and types from Prometheus v0.316.0's prompb/io/prometheus/write/v2/types.proto;
 * histograms and exemplars are not produced by Sluice and left out). Decoding only: the sender
 * writes 2.0 with wire-v2.ts; this is the independent reading that tests and test receivers use.
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
  Metadata metadata = 5;
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
    metadata?: { type: number; helpRef: number; unitRef: number } | null;
  }[];
}

/** One decoded series, with its symbol references resolved. */
export interface DecodedV2Series {
  readonly labels: Label[];
  readonly samples: { value: number; timestampMs: number; startTimestampMs: number }[];
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
      metadata,
    };
  });
  return { symbols: raw.symbols, series };
}
