import { z } from 'zod';
import { BUCKETS_INCREASE, bucketsIncrease, bucketsSchema, defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, InvalidInput, singleTarget, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { zeroedDoubles } from './double-slab.ts';
import { numericInput } from './numeric-input.ts';

/**
 * A cumulative histogram with explicit buckets, emitted as a HistogramValue (per-bucket counts;
 * a Prometheus sink flattens it into `_bucket{le}`, `_sum` and `_count`). Accumulator: per-bucket
 * counts, then sum, then count.
 */
export class HistogramAggregator implements Aggregator<Float64Array, number> {
  readonly cumulative = true;
  readonly emitKeepsAcc = true;
  readonly plainNumbers = true;
  readonly read: (record: Record<string, unknown>) => number | InvalidInput;
  readonly metric: MetricDescriptor;
  private readonly bounds: Float64Array;

  constructor(
    readonly name: string,
    valueField: string,
    scale: number,
    buckets: readonly number[],
    about: MetricAbout = {},
  ) {
    this.read = numericInput(valueField, new InvalidInput(`${name}: field "${valueField}" is not a finite number`), { scale });
    this.bounds = Float64Array.from(buckets);
    this.metric = describeMetric(name, 'histogram', about, { bounds: [...buckets] });
  }

  create(): Float64Array {
    return zeroedDoubles(this.bounds.length + 3);
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

export const histogramMetricSchema = z
  .object({
    name: z
      .string()
      .regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*')
      .describe('Base name; emitted as `<name>_bucket`, `<name>_sum`, `<name>_count`.'),
    type: z.literal('histogram').describe('Cumulative histogram with explicit buckets.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    value: fieldPath.describe('Field observed per record.'),
    scale: z.number().positive().default(1).describe('Multiplier applied to the value, e.g. 0.001 for ms → s.'),
    buckets: bucketsSchema,
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict()
  .refine(bucketsIncrease, BUCKETS_INCREASE);

export const histogramKind = defineKind(histogramMetricSchema, {
  create: (config, about) => new HistogramAggregator(config.name, config.value, config.scale, config.buckets, about),
});
