import { z } from 'zod';
import { defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, InvalidInput, singleTarget, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { numericInput } from './numeric-input.ts';

/** A cumulative counter: counts records, or sums a non-negative field. Accumulator: [total]. */
export class CounterAggregator implements Aggregator<Float64Array, number> {
  readonly cumulative = true;
  readonly emitKeepsAcc = true;
  readonly plainNumbers = true;
  readonly read: (record: Record<string, unknown>) => number | InvalidInput;
  readonly metric: MetricDescriptor;

  constructor(
    readonly name: string,
    valueField: string | undefined,
    about: MetricAbout = {},
  ) {
    this.metric = describeMetric(name, 'counter', about);
    const invalid = new InvalidInput(`${name}: field "${valueField}" is not a finite number >= 0`);
    this.read = valueField === undefined ? () => 1 : numericInput(valueField, invalid, { nonNegative: true });
  }

  create(): Float64Array {
    return new Float64Array(1);
  }

  add(acc: Float64Array, value: number): void {
    acc[0] = acc[0]! + value;
  }

  merge(into: Float64Array, from: Float64Array): void {
    into[0] = into[0]! + from[0]!;
  }

  encode(acc: Float64Array): unknown {
    return acc[0];
  }

  decode(wire: unknown): Float64Array {
    return Float64Array.of(wire as number);
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return singleTarget(this.metric, base);
  }

  emit(acc: Float64Array, targets: readonly PointTarget[], timestampMs: number, _w: number, startMs: number, out: MetricPoint[]): void {
    const target = targets[0]!;
    out.push({ metric: target.metric, labels: target.labels, timestampMs, startTimestampMs: startMs, value: acc[0]! });
  }
}

export const counterMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name.'),
    type: z.literal('counter').describe('Cumulative counter: never reset by restarts; emitted as `<name>` (end it in `_total`).'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    value: fieldPath.optional().describe('Field to add per record; absent means count records.'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict()
  .refine((m) => m.name.endsWith('_total'), { message: 'counter names must end in "_total"', path: ['name'] });

export const counterKind = defineKind(counterMetricSchema, {
  create: (config, about) => new CounterAggregator(config.name, config.value, about),
});
