import type { Label, Sample } from '../../core/types.ts';
import { INVALID, withName, type Aggregator } from './aggregator.ts';
import { numericInput } from './numeric-input.ts';

/**
 * A cumulative histogram with explicit buckets, emitted as Prometheus `_bucket{le}` (cumulative
 * in `le`, +Inf last), `_sum` and `_count`. Accumulator: per-bucket counts, then sum, then count.
 */
export class HistogramAggregator implements Aggregator<Float64Array> {
  readonly cumulative = true;
  readonly invalidReason: string;
  readonly read: (record: Record<string, unknown>) => number | typeof INVALID;
  private readonly bounds: Float64Array;
  private readonly leValues: readonly string[];

  constructor(
    readonly name: string,
    valueField: string,
    scale: number,
    buckets: readonly number[],
  ) {
    this.read = numericInput(valueField, { scale });
    this.invalidReason = `${name}: field "${valueField}" is not a finite number`;
    this.bounds = Float64Array.from(buckets);
    // Go's shortest round-trip form, as Prometheus client libraries write `le`.
    this.leValues = [...buckets.map(String), '+Inf'];
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

  outputLabels(base: readonly Label[]): readonly (readonly Label[])[] {
    return [
      ...this.leValues.map((le) => withName(base, `${this.name}_bucket`, { name: 'le', value: le })),
      withName(base, `${this.name}_sum`),
      withName(base, `${this.name}_count`),
    ];
  }

  emit(acc: Float64Array, labels: readonly (readonly Label[])[], timestampMs: number, _w: number, out: Sample[]): void {
    const buckets = this.bounds.length + 1;
    let running = 0;
    for (let b = 0; b < buckets; b++) {
      running += acc[b]!;
      out.push({ labels: labels[b]!, value: running, timestampMs });
    }
    out.push({ labels: labels[buckets]!, value: acc[buckets]!, timestampMs });
    out.push({ labels: labels[buckets + 1]!, value: acc[buckets + 1]!, timestampMs });
  }
}
