import { z } from 'zod';
import { compileFieldGetter } from '../../core/field-path.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, withLabel, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';

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
export class DataQualityAggregator implements Aggregator<Float64Array, number> {
  readonly cumulative = false;
  readonly plainNumbers = true;
  readonly read: (record: Record<string, unknown>) => number;
  readonly metric: MetricDescriptor;

  constructor(
    readonly name: string,
    private readonly field: string,
    expect: ExpectedType,
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
    about: MetricAbout = {},
  ) {
    this.metric = describeMetric(name, 'gauge', about);
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
  readonly countRejected = (acc: Float64Array): void => {
    this.add(acc, SCHEMA_VIOLATION);
  };

  merge(into: Float64Array, from: Float64Array): void {
    for (let i = 0; i <= TOTAL; i++) into[i] = into[i]! + from[i]!;
  }

  encode(acc: Float64Array): unknown {
    return Array.from(acc);
  }

  decode(wire: unknown): Float64Array {
    return Float64Array.from(wire as number[]);
  }

  /** One gauge point per check, labelled with the field and the check. */
  targets(base: readonly Label[]): readonly PointTarget[] {
    const withField = withLabel(base, { name: 'field', value: this.field });
    return CHECKS.map((check) => ({ metric: this.metric, labels: withLabel(withField, { name: 'check', value: check }) }));
  }

  emit(acc: Float64Array, targets: readonly PointTarget[], timestampMs: number, _w: number, _start: number, out: MetricPoint[]): void {
    const total = acc[TOTAL]!;
    if (total === 0) return;
    for (let i = 0; i < CHECKS.length; i++) {
      const target = targets[i]!;
      out.push({ metric: target.metric, labels: target.labels, timestampMs, value: acc[i + 1]! / total });
    }
  }
}

export const dataQualityMetricSchema = z
  .object({
    name: z
      .string()
      .regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*')
      .describe('Metric name; emitted as `<name>{field, check}` with check null, invalid_type, out_of_range, schema_violation.'),
    type: z.literal('data_quality').describe('Per window, the share of records whose field is null, of the wrong type, out of range, or dead-lettered as invalid.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    field: fieldPath.describe('The field checked.'),
    expect: z.enum(['number', 'string', 'boolean']).default('number').describe('The type the field should have.'),
    min: z.number().optional().describe('Smallest valid value (numbers), inclusive.'),
    max: z.number().optional().describe('Largest valid value (numbers), inclusive.'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict()
  .refine((m) => m.min === undefined || m.max === undefined || m.min <= m.max, { message: 'min must not exceed max', path: ['max'] });

export const dataQualityKind = defineKind(dataQualityMetricSchema, {
  create: (config, about) => new DataQualityAggregator(config.name, config.field, config.expect, config.min, config.max, about),
});
