/**
 * MetricPoints of one tenant → one ExportMetricsServiceRequest: one ResourceMetrics (the tenant's
 * resource attributes), one ScopeMetrics (Sluice), one Metric per descriptor, cumulative
 * temporality. Counters are monotonic Sums and histograms explicit-bucket Histograms, both with
 * their start time; gauges are Gauges; summaries Summaries; a stale point (value undefined) is a
 * data point flagged FLAG_NO_RECORDED_VALUE, which Prometheus turns into a stale marker.
 */
import type { HistogramValue, MetricDescriptor, MetricPoint, SummaryValue } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { SLUICE_VERSION } from '../remote-write/version.ts';
import { CUMULATIVE, ExportMetricsServiceRequest, FLAG_NO_RECORDED_VALUE } from './proto.ts';

interface KeyValue {
  readonly key: string;
  readonly value: { readonly stringValue: string };
}

/** A fixed64 as protobufjs takes it without parsing a string: nanoseconds from milliseconds, exact. */
interface Fixed64 {
  readonly low: number;
  readonly high: number;
  readonly unsigned: true;
}

const NANOS_PER_MS = 1_000_000n;
const LOW_32 = 0xffff_ffffn;

function nanos(ms: number): Fixed64 {
  const value = BigInt(ms) * NANOS_PER_MS;
  return { low: Number(value & LOW_32) | 0, high: Number(value >> 32n) | 0, unsigned: true };
}

const SCOPE = { name: 'sluice', version: SLUICE_VERSION };

/** Why a point cannot be encoded, or undefined when it can. Checked before a point is queued. */
export function invalidPoint(point: MetricPoint): string | undefined {
  if (!Number.isSafeInteger(point.timestampMs) || point.timestampMs < 0) return 'timestamp is not a non-negative integer of milliseconds';
  const start = point.startTimestampMs;
  if (start !== undefined && (!Number.isSafeInteger(start) || start < 0 || start > point.timestampMs)) {
    return 'start timestamp is not an integer of milliseconds at or before the timestamp';
  }
  const value = point.value;
  if (value === undefined) return undefined;
  switch (point.metric.type) {
    case 'counter':
    case 'gauge':
      return typeof value === 'number' ? undefined : `a ${point.metric.type} needs a number`;
    case 'histogram':
      return isHistogram(value) && value.bucketCounts.length === value.bounds.length + 1
        ? undefined
        : 'a histogram needs bounds and one bucket count more than bounds';
    case 'summary':
      return isSummary(value) ? undefined : 'a summary needs quantiles, count and sum';
  }
}

function isHistogram(value: unknown): value is HistogramValue {
  return typeof value === 'object' && value !== null && 'bucketCounts' in value;
}

function isSummary(value: unknown): value is SummaryValue {
  return typeof value === 'object' && value !== null && 'quantiles' in value;
}

/** One tenant's request builder: its resource and its extra labels, fixed at construction. */
export class OtlpRequestEncoder {
  private readonly resource: { attributes: KeyValue[] };
  private readonly extraLabels: readonly KeyValue[];
  private readonly extraNames: ReadonlySet<string>;
  /** Operators reuse a series' label array every window: its attributes are built once. */
  private readonly attributeCache = new WeakMap<readonly Label[], KeyValue[]>();

  constructor(resourceAttributes: Readonly<Record<string, string>>, extraLabels: Readonly<Record<string, string>>) {
    this.resource = { attributes: Object.entries(resourceAttributes).map(([key, value]) => keyValue(key, value)) };
    this.extraLabels = Object.entries(extraLabels).map(([key, value]) => keyValue(key, value));
    this.extraNames = new Set(Object.keys(extraLabels));
  }

  /** The request as protobuf (application/x-protobuf). */
  encodeProto(points: readonly MetricPoint[]): Uint8Array {
    return ExportMetricsServiceRequest.encode(this.request(points)).finish();
  }

  /** The request as OTLP/JSON (application/json): camelCase names, enums as numbers, 64-bit integers as strings. */
  encodeJson(points: readonly MetricPoint[]): Uint8Array {
    const message = ExportMetricsServiceRequest.fromObject(this.request(points));
    const plain = ExportMetricsServiceRequest.toObject(message, { longs: String, enums: Number, json: true });
    return new TextEncoder().encode(JSON.stringify(plain));
  }

  private request(points: readonly MetricPoint[]): object {
    const byMetric = new Map<MetricDescriptor, object[]>();
    for (const point of points) {
      let dataPoints = byMetric.get(point.metric);
      if (dataPoints === undefined) byMetric.set(point.metric, (dataPoints = []));
      dataPoints.push(this.dataPoint(point));
    }
    const metrics = Array.from(byMetric, ([metric, dataPoints]) => metricOf(metric, dataPoints));
    return { resourceMetrics: [{ resource: this.resource, scopeMetrics: [{ scope: SCOPE, metrics }] }] };
  }

  private dataPoint(point: MetricPoint): object {
    const out: Record<string, unknown> = { attributes: this.attributes(point.labels), timeUnixNano: nanos(point.timestampMs) };
    const { type } = point.metric;
    if (point.startTimestampMs !== undefined && (type === 'counter' || type === 'histogram' || type === 'summary')) {
      out.startTimeUnixNano = nanos(point.startTimestampMs);
    }
    const value = point.value;
    if (value === undefined) {
      out.flags = FLAG_NO_RECORDED_VALUE;
    } else if (typeof value === 'number') {
      out.asDouble = value;
    } else if (isHistogram(value)) {
      out.count = value.count;
      out.sum = value.sum;
      out.bucketCounts = value.bucketCounts;
      out.explicitBounds = value.bounds;
    } else {
      out.count = value.count;
      out.sum = value.sum;
      out.quantileValues = value.quantiles;
    }
    return out;
  }

  private attributes(labels: readonly Label[]): KeyValue[] {
    let attributes = this.attributeCache.get(labels);
    if (attributes !== undefined) return attributes;
    // The tenant's extra labels win over data labels of the same name, as in the remote-write sink.
    attributes = labels.filter((label) => !this.extraNames.has(label.name)).map((label) => keyValue(label.name, label.value));
    attributes.push(...this.extraLabels);
    this.attributeCache.set(labels, attributes);
    return attributes;
  }
}

function keyValue(key: string, value: string): KeyValue {
  return { key, value: { stringValue: value } };
}

function metricOf(metric: MetricDescriptor, dataPoints: object[]): object {
  const out: Record<string, unknown> = { name: metric.name, description: metric.help, unit: metric.unit };
  switch (metric.type) {
    case 'counter':
      out.sum = { dataPoints, aggregationTemporality: CUMULATIVE, isMonotonic: true };
      break;
    case 'gauge':
      out.gauge = { dataPoints };
      break;
    case 'histogram':
      out.histogram = { dataPoints, aggregationTemporality: CUMULATIVE };
      break;
    case 'summary':
      out.summary = { dataPoints };
      break;
  }
  return out;
}
