import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, INVALID, singleTarget, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { numericInput } from './numeric-input.ts';

/**
 * A cumulative histogram with explicit buckets, emitted as a HistogramValue (per-bucket counts;
 * a Prometheus sink flattens it into `_bucket{le}`, `_sum` and `_count`). Accumulator: per-bucket
 * counts, then sum, then count.
 */
export class HistogramAggregator implements Aggregator<Float64Array> {
  readonly cumulative = true;
  readonly invalidReason: string;
  readonly read: (record: Record<string, unknown>) => number | typeof INVALID;
  readonly metric: MetricDescriptor;
  private readonly bounds: Float64Array;

  constructor(
    readonly name: string,
    valueField: string,
    scale: number,
    buckets: readonly number[],
    about: MetricAbout = {},
  ) {
    this.read = numericInput(valueField, { scale });
    this.invalidReason = `${name}: field "${valueField}" is not a finite number`;
    this.bounds = Float64Array.from(buckets);
    this.metric = describeMetric(name, 'histogram', about, { bounds: [...buckets] });
  }

  create(): Float64Array {
    return new Float64Array(this.bounds.length + 3);
  }

  add(acc: Float64Array, value: number): void {
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    acc[bucket] = acc[bucket]! + 1;
    acc[bounds.length + 1] = acc[bounds.length + 1]! + value;
    acc[bounds.length + 2] = acc[bounds.length + 2]! + 1;
  }

  merge(into: Float64Array, from: Float64Array): void {
    for (let i = 0; i < into.length; i++) into[i] = into[i]! + from[i]!;
  }

  encode(acc: Float64Array): unknown {
    return Array.from(acc);
  }

  decode(wire: unknown): Float64Array {
    return Float64Array.from(wire as number[]);
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return singleTarget(this.metric, base);
  }

  emit(acc: Float64Array, targets: readonly PointTarget[], timestampMs: number, _w: number, startMs: number, out: MetricPoint[]): void {
    const target = targets[0]!;
    const buckets = this.bounds.length + 1;
    const value = { bounds: target.metric.bounds!, bucketCounts: Array.from(acc.subarray(0, buckets)), sum: acc[buckets]!, count: acc[buckets + 1]! };
    out.push({ metric: target.metric, labels: target.labels, timestampMs, startTimestampMs: startMs, value });
  }
}
