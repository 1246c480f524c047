import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, INVALID, singleTarget, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { numericInput } from './numeric-input.ts';

/** A cumulative counter: counts records, or sums a non-negative field. Accumulator: [total]. */
export class CounterAggregator implements Aggregator<Float64Array> {
  readonly cumulative = true;
  readonly invalidReason: string;
  readonly read: (record: Record<string, unknown>) => number | typeof INVALID;
  readonly metric: MetricDescriptor;

  constructor(
    readonly name: string,
    valueField: string | undefined,
    about: MetricAbout = {},
  ) {
    this.metric = describeMetric(name, 'counter', about);
    this.read = valueField === undefined ? () => 1 : numericInput(valueField, { nonNegative: true });
    this.invalidReason = `${name}: field "${valueField}" is not a finite number >= 0`;
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
