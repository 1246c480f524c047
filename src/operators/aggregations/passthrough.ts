import { compileFieldGetter } from '../../core/field-path.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, INVALID, type Aggregator, type PointTarget } from './aggregator.ts';
import { WindowGaugeAggregator } from './window-gauge.ts';

/**
 * Forwards samples as they came (after relabelling): per window and series, the newest value,
 * under the record's own metric name and labels. The series' labels, `__name__` included, come
 * from the record (see the dynamic series groups in plan.ts); each series gets a gauge
 * descriptor of its own name, built once with the series.
 *
 * Any number passes, NaN and ±Inf included: Prometheus stores them from a scrape (a summary
 * quantile with no observations is NaN, a gauge may be +Inf), so a forwarded series keeps them;
 * remote write carries them as IEEE doubles (never Prometheus' stale-marker bits, which only
 * the window merger writes).
 */
export class PassthroughAggregator implements Aggregator<Float64Array> {
  readonly cumulative = false;
  private readonly last: WindowGaugeAggregator;
  readonly invalidReason: string;
  readonly read;

  constructor(readonly name: string, valueField: string) {
    this.last = new WindowGaugeAggregator(name, 'last', valueField);
    this.invalidReason = `${name}: field "${valueField}" is not a number`;
    const get = compileFieldGetter(valueField);
    this.read = (record: Record<string, unknown>): number | typeof INVALID => {
      const raw = get(record);
      return typeof raw === 'number' ? raw : INVALID;
    };
  }

  create(): Float64Array {
    return this.last.create();
  }

  add(acc: Float64Array, value: number, eventTimeMs: number): void {
    this.last.add(acc, value, eventTimeMs);
  }

  merge(into: Float64Array, from: Float64Array): void {
    this.last.merge(into, from);
  }

  encode(acc: Float64Array): unknown {
    return this.last.encode(acc);
  }

  decode(wire: unknown): Float64Array {
    return this.last.decode(wire);
  }

  /** `base` holds the record's `__name__`: it names the series' own descriptor. */
  targets(base: readonly Label[]): readonly PointTarget[] {
    let metric: MetricDescriptor | undefined;
    const labels: Label[] = [];
    for (const label of base) {
      if (label.name === '__name__') metric = describeMetric(label.value, 'gauge');
      else labels.push(label);
    }
    labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return [{ metric: metric ?? describeMetric('', 'gauge'), labels }];
  }

  emit(acc: Float64Array, targets: readonly PointTarget[], timestampMs: number, windowSeconds: number, startMs: number, out: MetricPoint[]): void {
    this.last.emit(acc, targets, timestampMs, windowSeconds, startMs, out);
  }
}
