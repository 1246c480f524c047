import { compileFieldGetter } from '../../core/field-path.ts';
import type { Label, Sample } from '../../core/types.ts';
import { INVALID, withName, type Aggregator } from './aggregator.ts';
import { HyperLogLog } from './hyperloglog.ts';

/** Distinct values of a field per window, by HyperLogLog; emitted as a gauge. */
export class DistinctAggregator implements Aggregator<HyperLogLog> {
  readonly cumulative = false;
  readonly invalidReason: string;
  private readonly get;

  constructor(
    readonly name: string,
    valueField: string,
    private readonly precision: number,
  ) {
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

  outputLabels(base: readonly Label[]): readonly (readonly Label[])[] {
    return [withName(base, this.name)];
  }

  emit(acc: HyperLogLog, labels: readonly (readonly Label[])[], timestampMs: number, _w: number, out: Sample[]): void {
    out.push({ labels: labels[0]!, value: Math.round(acc.estimate()), timestampMs });
  }
}
