import type { Label, Sample } from '../../core/types.ts';
import { INVALID, withName, type Aggregator } from './aggregator.ts';
import { numericInput } from './numeric-input.ts';

/** A cumulative counter: counts records, or sums a non-negative field. Accumulator: [total]. */
export class CounterAggregator implements Aggregator<Float64Array> {
  readonly cumulative = true;
  readonly invalidReason: string;
  readonly read: (record: Record<string, unknown>) => number | typeof INVALID;

  constructor(
    readonly name: string,
    valueField: string | undefined,
  ) {
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

  outputLabels(base: readonly Label[]): readonly (readonly Label[])[] {
    return [withName(base, this.name)];
  }

  emit(acc: Float64Array, labels: readonly (readonly Label[])[], timestampMs: number, _w: number, out: Sample[]): void {
    out.push({ labels: labels[0]!, value: acc[0]!, timestampMs });
  }
}
