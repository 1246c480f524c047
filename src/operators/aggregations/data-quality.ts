import { compileFieldGetter } from '../../core/field-path.ts';
import type { Label, Sample } from '../../core/types.ts';
import { withName, type Aggregator } from './aggregator.ts';

export type ExpectedType = 'number' | 'string' | 'boolean';

// What a record's field is, as `read` classifies it; the accumulator counts each class.
const VALID = 0;
const NULL = 1;
const INVALID_TYPE = 2;
const OUT_OF_RANGE = 3;
/** Counted by the pre-aggregator for a record it dead-letters as invalid (see countRejected). */
const SCHEMA_VIOLATION = 4;
const TOTAL = 5;

const CHECKS = ['null', 'invalid_type', 'out_of_range', 'schema_violation'] as const;

/**
 * Data-quality gauges of one field, per window and series: the share of records whose field is
 * null or missing, of another type than declared, outside the declared [min, max], and the share
 * dead-lettered as invalid (a metric value that was not a finite number). Emitted as
 * `<name>{field, check}` in [0, 1]. It never rejects a record itself: counting bad values is its job.
 */
export class DataQualityAggregator implements Aggregator<Float64Array> {
  readonly cumulative = false;
  readonly invalidReason = '';
  readonly read: (record: Record<string, unknown>) => number;

  constructor(
    readonly name: string,
    private readonly field: string,
    expect: ExpectedType,
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
  ) {
    const get = compileFieldGetter(field);
    this.read = (record) => {
      const raw = get(record);
      if (raw === undefined || raw === null) return NULL;
      if (typeof raw !== expect || (expect === 'number' && !Number.isFinite(raw))) return INVALID_TYPE;
      if (expect === 'number' && ((raw as number) < min || (raw as number) > max)) return OUT_OF_RANGE;
      return VALID;
    };
  }

  create(): Float64Array {
    return new Float64Array(TOTAL + 1);
  }

  add(acc: Float64Array, value: number): void {
    acc[value] = acc[value]! + 1;
    acc[TOTAL] = acc[TOTAL]! + 1;
  }

  /** A record of this series that stage 1 dead-lettered as invalid. */
  countRejected(acc: Float64Array): void {
    this.add(acc, SCHEMA_VIOLATION);
  }

  merge(into: Float64Array, from: Float64Array): void {
    for (let i = 0; i <= TOTAL; i++) into[i] = into[i]! + from[i]!;
  }

  encode(acc: Float64Array): unknown {
    return Array.from(acc);
  }

  decode(wire: unknown): Float64Array {
    return Float64Array.from(wire as number[]);
  }

  outputLabels(base: readonly Label[]): readonly (readonly Label[])[] {
    const withField = base.filter((l) => l.name !== 'field').concat({ name: 'field', value: this.field });
    return CHECKS.map((check) => withName(withField, this.name, { name: 'check', value: check }));
  }

  emit(acc: Float64Array, labels: readonly (readonly Label[])[], timestampMs: number, _w: number, out: Sample[]): void {
    const total = acc[TOTAL]!;
    if (total === 0) return;
    for (let i = 0; i < CHECKS.length; i++) out.push({ labels: labels[i]!, value: acc[i + 1]! / total, timestampMs });
  }
}

export function countsRejections(aggregator: Aggregator): aggregator is DataQualityAggregator {
  return aggregator instanceof DataQualityAggregator;
}
