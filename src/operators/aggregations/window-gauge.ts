import { z } from 'zod';
import { defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, InvalidInput, singleTarget, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { numericInput } from './numeric-input.ts';

export type GaugeAggregate = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'rate' | 'last';

// Accumulator layout: count, sum, min, max, last value. Order-independent merges only, so a
// replay or a different partial split gives the same bits: `last` keeps the value of the newest
// event time, and among equal times the largest value.
const COUNT = 0;
const SUM = 1;
const MIN = 2;
const MAX = 3;
const LAST_TIME = 4;
const LAST_VALUE = 5;

/** One value per window: count, sum, min, max, avg, rate (per second) or last. */
export class WindowGaugeAggregator implements Aggregator<Float64Array, number> {
  readonly cumulative = false;
  readonly plainNumbers = true;
  readonly read: (record: Record<string, unknown>) => number | InvalidInput;
  readonly metric: MetricDescriptor;

  constructor(
    readonly name: string,
    readonly aggregate: GaugeAggregate,
    valueField: string | undefined,
    about: MetricAbout = {},
  ) {
    this.metric = describeMetric(name, 'gauge', about);
    const invalid = new InvalidInput(`${name}: field "${valueField}" is not a finite number`);
    this.read = valueField === undefined ? () => 1 : numericInput(valueField, invalid);
  }

  create(): Float64Array {
    return Float64Array.of(0, 0, Infinity, -Infinity, -Infinity, 0);
  }

  add(acc: Float64Array, value: number, eventTimeMs: number): void {
    acc[COUNT] = acc[COUNT]! + 1;
    acc[SUM] = acc[SUM]! + value;
    if (value < acc[MIN]!) acc[MIN] = value;
    if (value > acc[MAX]!) acc[MAX] = value;
    if (eventTimeMs > acc[LAST_TIME]! || (eventTimeMs === acc[LAST_TIME]! && ranksAbove(value, acc[LAST_VALUE]!))) {
      acc[LAST_TIME] = eventTimeMs;
      acc[LAST_VALUE] = value;
    }
  }

  merge(into: Float64Array, from: Float64Array): void {
    into[COUNT] = into[COUNT]! + from[COUNT]!;
    into[SUM] = into[SUM]! + from[SUM]!;
    if (from[MIN]! < into[MIN]!) into[MIN] = from[MIN]!;
    if (from[MAX]! > into[MAX]!) into[MAX] = from[MAX]!;
    if (from[LAST_TIME]! > into[LAST_TIME]! || (from[LAST_TIME]! === into[LAST_TIME]! && ranksAbove(from[LAST_VALUE]!, into[LAST_VALUE]!))) {
      into[LAST_TIME] = from[LAST_TIME]!;
      into[LAST_VALUE] = from[LAST_VALUE]!;
    }
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

  emit(acc: Float64Array, targets: readonly PointTarget[], timestampMs: number, windowSeconds: number, _start: number, out: MetricPoint[]): void {
    const count = acc[COUNT]!;
    if (count === 0) return; // no records of this series in the window: no value to report
    let value: number;
    switch (this.aggregate) {
      case 'count':
        value = count;
        break;
      case 'sum':
        value = acc[SUM]!;
        break;
      case 'min':
        value = acc[MIN]!;
        break;
      case 'max':
        value = acc[MAX]!;
        break;
      case 'avg':
        value = acc[SUM]! / count;
        break;
      case 'rate':
        value = acc[SUM]! / windowSeconds;
        break;
      case 'last':
        value = acc[LAST_VALUE]!;
        break;
    }
    const target = targets[0]!;
    out.push({ metric: target.metric, labels: target.labels, timestampMs, value });
  }
}

/**
 * The tie-break of `last` among equal event times: the larger value, with NaN above every
 * number (passthrough forwards NaN). A plain `>` is false both ways with NaN, so which value won
 * would depend on arrival order, and a replay could differ.
 */
function ranksAbove(a: number, b: number): boolean {
  return a > b || (a !== a && b === b);
}

export const windowGaugeMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name.'),
    type: z.literal('gauge').describe('One value per window and series, stamped with the window end.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    aggregate: z
      .enum(['count', 'sum', 'min', 'max', 'avg', 'rate', 'last'])
      .describe('count: records; sum/min/max/avg/last of `value`; rate: per second over the window (of `value`, or of records).'),
    value: fieldPath.optional().describe('Field aggregated per record; required except for count and rate.'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict()
  .refine((m) => m.value !== undefined || m.aggregate === 'count' || m.aggregate === 'rate', {
    message: 'value is required for this aggregate',
    path: ['value'],
  });

export const gaugeKind = defineKind(windowGaugeMetricSchema, {
  create: (config, about) => new WindowGaugeAggregator(config.name, config.aggregate, config.value, about),
});
