import { compileFieldGetter } from '../../core/field-path.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, INVALID, singleTarget, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { HyperLogLog } from './hyperloglog.ts';

/** Distinct values of a field per window, by HyperLogLog; emitted as a gauge. */
export class DistinctAggregator implements Aggregator<HyperLogLog> {
  readonly cumulative = false;
  readonly invalidReason: string;
  readonly metric: MetricDescriptor;
  private readonly get;

  constructor(
    readonly name: string,
    valueField: string,
    private readonly precision: number,
    about: MetricAbout = {},
  ) {
    this.metric = describeMetric(name, 'gauge', about);
    this.get = compileFieldGetter(valueField);
    this.invalidReason = `${name}: field "${valueField}" is not a string, number or boolean`;
  }

  read(record: Record<string, unknown>): string | typeof INVALID {
    const raw = this.get(record);
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
    return INVALID;
  }

  create(): HyperLogLog {
    return new HyperLogLog(this.precision);
  }

  add(acc: HyperLogLog, value: string): void {
    acc.add(value);
  }

  merge(into: HyperLogLog, from: HyperLogLog): void {
    into.merge(from);
  }

  encode(acc: HyperLogLog): unknown {
    return acc.registers;
  }

  decode(wire: unknown): HyperLogLog {
    return new HyperLogLog(this.precision, new Uint8Array(wire as Uint8Array));
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return singleTarget(this.metric, base);
  }

  emit(acc: HyperLogLog, targets: readonly PointTarget[], timestampMs: number, _w: number, _start: number, out: MetricPoint[]): void {
    const target = targets[0]!;
    out.push({ metric: target.metric, labels: target.labels, timestampMs, value: Math.round(acc.estimate()) });
  }
}
