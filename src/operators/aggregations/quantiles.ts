import { z } from 'zod';
import { defineKind, fieldPath, labelsSchema, METRIC_NAME, metricFilter, staticLabelsSchema, unitSchema } from './kind.ts';
import { DDSketch } from '@datadog/sketches-js';
import type { MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { describeMetric, InvalidInput, withLabel, type Aggregator, type MetricAbout, type PointTarget } from './aggregator.ts';
import { numericInput } from './numeric-input.ts';
import { mergeSketch } from './sketch-merge.ts';
import { decodeSketch, encodeSketch } from './sketch-wire.ts';

/**
 * Quantiles per window from a DDSketch (Datadog's implementation): every quantile within the
 * configured relative accuracy, and sketches from any number of partials merge exactly.
 * Emitted as one gauge point per quantile, label `quantile`, as Prometheus summaries do; not as a
 * SummaryValue, which would add `_sum` and `_count` series that Sluice never sent.
 */
export class QuantilesAggregator implements Aggregator<DDSketch, number> {
  readonly cumulative = false;
  readonly read: (record: Record<string, unknown>) => number | InvalidInput;
  readonly metric: MetricDescriptor;
  /** `quantile` label values: Go's shortest round-trip form, as Prometheus client libraries write them. */
  private readonly quantileLabels: readonly string[];

  constructor(
    readonly name: string,
    valueField: string,
    private readonly quantiles: readonly number[],
    private readonly relativeAccuracy: number,
    scale = 1,
    about: MetricAbout = {},
  ) {
    this.metric = describeMetric(name, 'gauge', about);
    this.quantileLabels = quantiles.map(String);
    this.read = numericInput(valueField, new InvalidInput(`${name}: field "${valueField}" is not a finite number`), { scale });
  }

  create(): DDSketch {
    return new DDSketch({ relativeAccuracy: this.relativeAccuracy });
  }

  add(acc: DDSketch, value: number): void {
    acc.accept(value);
  }

  merge(into: DDSketch, from: DDSketch): void {
    mergeSketch(into, from);
  }

  encode(acc: DDSketch): unknown {
    return encodeSketch(acc);
  }

  /**
   * Into a fresh sketch of this aggregator's mapping: a sketch read back with the mapping its
   * protobuf carries answers quantiles that differ in the last bits, and a re-sent sample must be
   * bit-identical (Prometheus refuses a different value at the same timestamp).
   */
  decode(wire: unknown): DDSketch {
    return decodeSketch(wire as Uint8Array, this.create());
  }

  targets(base: readonly Label[]): readonly PointTarget[] {
    return this.quantileLabels.map((value) => ({ metric: this.metric, labels: withLabel(base, { name: 'quantile', value }) }));
  }

  emit(acc: DDSketch, targets: readonly PointTarget[], timestampMs: number, _w: number, _start: number, out: MetricPoint[]): void {
    if (acc.count === 0) return;
    for (let i = 0; i < this.quantiles.length; i++) {
      const target = targets[i]!;
      out.push({ metric: target.metric, labels: target.labels, timestampMs, value: acc.getValueAtQuantile(this.quantiles[i]!) });
    }
  }
}

export const quantilesMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME, 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*').describe('Metric name; one series per quantile, label `quantile`.'),
    type: z.literal('quantiles').describe('Quantiles per window from a mergeable DDSketch.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    value: fieldPath.describe('Field observed per record.'),
    scale: z.number().positive().default(1).describe('Multiplier applied to the value, e.g. 0.001 for ms → s.'),
    quantiles: z.array(z.number().gt(0).lt(1)).min(1).describe('Quantiles to emit, each in (0, 1).'),
    relative_accuracy: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.01)
      .describe('Guaranteed relative error of every quantile (DDSketch alpha).'),
    labels: labelsSchema,
    static_labels: staticLabelsSchema,
    filter: metricFilter,
  })
  .strict();

export const quantilesKind = defineKind(quantilesMetricSchema, {
  create: (config, about) => new QuantilesAggregator(config.name, config.value, config.quantiles, config.relative_accuracy, config.scale, about),
});
