import { z } from 'zod';
import { defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';
import { compileFieldGetter } from '../../core/field-path.ts';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, InvalidInput, singleTarget, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { HyperLogLog } from './hyperloglog.ts';

/** Distinct values of a field per window, by HyperLogLog; emitted as a gauge. */
export class DistinctAggregator implements Aggregator<HyperLogLog, string> {
  readonly cumulative = false;
  private readonly invalid: InvalidInput;
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
    this.invalid = new InvalidInput(`${name}: field "${valueField}" is not a string, number or boolean`);
  }

  read(record: Record<string, unknown>): string | InvalidInput {
    const raw = this.get(record);
    if (typeof raw === 'string') return raw;
    if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
    return this.invalid;
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

  /**
   * Registers from a partial or a checkpoint: exactly 2^precision of them, each a rank this
   * precision can give. A wrong count would make a sketch of another size, whose estimate and
   * merges are silently wrong; a corrupt message is refused like any other (RangeError).
   */
  decode(wire: unknown): HyperLogLog {
    if (!(wire instanceof Uint8Array)) throw new RangeError('distinct registers are not bytes');
    const registers = 1 << this.precision;
    if (wire.length !== registers) throw new RangeError(`distinct sketch of ${wire.length} registers, expected ${registers} (precision ${this.precision})`);
    const highestRank = 32 - this.precision + 1;
    for (let i = 0; i < wire.length; i++) if (wire[i]! > highestRank) throw new RangeError(`distinct register ${i} holds rank ${wire[i]}, above ${highestRank}`);
    return new HyperLogLog(this.precision, new Uint8Array(wire));
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return singleTarget(this.metric, base);
  }

  emit(acc: HyperLogLog, targets: readonly PointTarget[], timestampMs: number, _w: number, _start: number, out: MetricPoint[]): void {
    const target = targets[0]!;
    out.push({ metric: target.metric, labels: target.labels, timestampMs, value: Math.round(acc.estimate()) });
  }
}

export const distinctMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name.'),
    type: z.literal('distinct').describe('Distinct values of a field per window, estimated by HyperLogLog.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    value: fieldPath.describe('Field whose distinct values are counted.'),
    precision: z
      .number()
      .int()
      .min(4)
      .max(16)
      .default(14)
      .describe('HyperLogLog precision p: 2^p registers, standard error 1.04 / sqrt(2^p).'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict();

export const distinctKind = defineKind(distinctMetricSchema, {
  create: (config, about) => new DistinctAggregator(config.name, config.value, config.precision, about),
});
