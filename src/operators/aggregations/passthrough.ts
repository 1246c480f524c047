import { compileFieldGetter } from '../../core/field-path.ts';
import type { Label, Sample } from '../../core/types.ts';
import { INVALID, type Aggregator } from './aggregator.ts';
import { WindowGaugeAggregator } from './window-gauge.ts';

/**
 * Forwards samples as they came (after relabelling): per window and series, the newest value,
 * under the record's own metric name and labels. The series' labels, `__name__` included, come
 * from the record (see the dynamic series groups in plan.ts), so the output labels are the base.
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

  outputLabels(base: readonly Label[]): readonly (readonly Label[])[] {
    return [[...base].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))];
  }

  emit(acc: Float64Array, labels: readonly (readonly Label[])[], timestampMs: number, windowSeconds: number, out: Sample[]): void {
    this.last.emit(acc, labels, timestampMs, windowSeconds, out);
  }
}
