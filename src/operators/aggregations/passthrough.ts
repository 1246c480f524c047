import { z } from 'zod';
import { defineKind, fieldPath, METRIC_NAME, metricFilter, unitSchema } from './kind.ts';
import { compileFieldGetter } from '../../core/field-path.ts';
import type { MetricDescriptor } from '../../core/metric-model.ts';
import type { Label } from '../../core/types.ts';
import { byName, describeMetric, InvalidInput, type PointTarget } from './aggregator.ts';
import { AggregatorDecorator } from './decorators.ts';
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
export class PassthroughAggregator extends AggregatorDecorator<Float64Array, number> {
  override readonly read;

  constructor(name: string, valueField: string) {
    super(new WindowGaugeAggregator(name, 'last', valueField));
    const invalid = new InvalidInput(`${name}: field "${valueField}" is not a number`);
    const get = compileFieldGetter(valueField);
    this.read = (record: Record<string, unknown>): number | InvalidInput => {
      const raw = get(record);
      return typeof raw === 'number' ? raw : invalid;
    };
  }

  /** `base` holds the record's `__name__`: it names the series' own descriptor. */
  override targets(base: readonly Label[]): readonly PointTarget[] {
    let metric: MetricDescriptor | undefined;
    const labels: Label[] = [];
    for (const label of base) {
      if (label.name === '__name__') metric = describeMetric(label.value, 'gauge');
      else labels.push(label);
    }
    labels.sort(byName);
    return [{ metric: metric ?? describeMetric('', 'gauge'), labels }];
  }
}

export const passthroughMetricSchema = z
  .object({
    name: z.string().regex(METRIC_NAME).describe('A name for this rule (the samples keep their own names).'),
    type: z.literal('passthrough').describe('Forward each series of exposition-format records as it is (after relabelling): its newest value per window.'),
    help: z.string().default('').describe('HELP text.'),
    unit: unitSchema,
    metric_name: fieldPath.default('name').describe('Field holding the sample\'s metric name.'),
    metric_labels: fieldPath.default('labels').describe('Field holding the sample\'s labels (a map).'),
    value: fieldPath.default('value').describe('Field holding the sample value.'),
    filter: metricFilter,
  })
  .strict();

export const passthroughKind = defineKind(passthroughMetricSchema, {
  create: (config) => new PassthroughAggregator(config.name, config.value),
  dynamicSeries: (config) => ({ name: compileFieldGetter(config.metric_name), labels: compileFieldGetter(config.metric_labels) }),
});
