import { DDSketch } from '@datadog/sketches-js';
import type { Label, Sample } from '../../core/types.ts';
import { INVALID, withName, type Aggregator } from './aggregator.ts';
import { numericInput } from './numeric-input.ts';

/**
 * Quantiles per window from a DDSketch (Datadog's implementation): every quantile within the
 * configured relative accuracy, and sketches from any number of partials merge exactly.
 * Emitted as one gauge per quantile, label `quantile`, as Prometheus summaries do.
 */
export class QuantilesAggregator implements Aggregator<DDSketch> {
  readonly cumulative = false;
  readonly invalidReason: string;
  readonly read: (record: Record<string, unknown>) => number | typeof INVALID;

  constructor(
    readonly name: string,
    valueField: string,
    private readonly quantiles: readonly number[],
    private readonly relativeAccuracy: number,
    scale = 1,
  ) {
    this.read = numericInput(valueField, { scale });
    this.invalidReason = `${name}: field "${valueField}" is not a finite number`;
  }

  create(): DDSketch {
    return new DDSketch({ relativeAccuracy: this.relativeAccuracy });
  }

  add(acc: DDSketch, value: number): void {
    acc.accept(value);
  }

  merge(into: DDSketch, from: DDSketch): void {
    into.merge(from);
  }

  encode(acc: DDSketch): unknown {
    return acc.toProto();
  }

  /**
   * Merges the decoded sketch into a fresh one: a sketch read back from protobuf carries a
   * re-derived index mapping whose quantiles differ in the last bits, and a re-sent sample must
   * be bit-identical (Prometheus refuses a different value at the same timestamp).
   */
  decode(wire: unknown): DDSketch {
    const sketch = this.create();
    sketch.merge(DDSketch.fromProto(wire as Uint8Array));
    return sketch;
  }

  outputLabels(base: readonly Label[]): readonly (readonly Label[])[] {
    return this.quantiles.map((q) => withName(base, this.name, { name: 'quantile', value: String(q) }));
  }

  emit(acc: DDSketch, labels: readonly (readonly Label[])[], timestampMs: number, _w: number, out: Sample[]): void {
    if (acc.count === 0) return;
    for (let i = 0; i < this.quantiles.length; i++) {
      out.push({ labels: labels[i]!, value: acc.getValueAtQuantile(this.quantiles[i]!), timestampMs });
    }
  }
}
