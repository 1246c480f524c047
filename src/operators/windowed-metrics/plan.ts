import type { MetricConfig } from '../../config/schema.ts';
import { compileFieldGetter, type FieldGetter } from '../../core/field-path.ts';

/**
 * The compiled form of the `metrics` section. Metrics with the same label mapping share one
 * series group, so a record builds each distinct series key once however many metrics read it.
 *
 * Each series keeps its numbers in one Float64Array ("slots"): a counter takes one slot; a
 * histogram takes one slot per finite bucket, one for +Inf, then sum and count.
 */
export interface CounterPlan {
  readonly kind: 'counter';
  readonly name: string;
  readonly value: FieldGetter | undefined;
  readonly valueField: string | undefined;
  readonly slot: number;
}

export interface HistogramPlan {
  readonly kind: 'histogram';
  readonly name: string;
  readonly value: FieldGetter;
  readonly valueField: string;
  readonly scale: number;
  readonly bounds: Float64Array;
  /** `le` label values, "+Inf" last, formatted once. */
  readonly leValues: readonly string[];
  /** First bucket slot; buckets occupy bounds.length + 1 slots, then sum, then count. */
  readonly slot: number;
}

export type MetricPlan = CounterPlan | HistogramPlan;

export interface SeriesGroupPlan {
  /** Output label names in the order their values are read; sorted by name. */
  readonly labelNames: readonly string[];
  readonly labelGetters: readonly FieldGetter[];
  readonly metrics: readonly MetricPlan[];
  readonly slotCount: number;
}

export function planMetrics(metrics: readonly MetricConfig[]): SeriesGroupPlan[] {
  const groups = new Map<string, { labelNames: string[]; labelFields: string[]; metrics: MetricConfig[] }>();
  for (const metric of metrics) {
    const labelNames = Object.keys(metric.labels).sort();
    const labelFields = labelNames.map((name) => metric.labels[name]!);
    const key = labelNames.map((name, i) => `${name}=${labelFields[i]}`).join('\u0000');
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { labelNames, labelFields, metrics: [] }));
    group.metrics.push(metric);
  }
  return [...groups.values()].map(({ labelNames, labelFields, metrics: groupMetrics }) => {
    let slot = 0;
    const plans = groupMetrics.map((metric): MetricPlan => {
      if (metric.type === 'counter') {
        const plan: CounterPlan = {
          kind: 'counter',
          name: metric.name,
          value: metric.value === undefined ? undefined : compileFieldGetter(metric.value),
          valueField: metric.value,
          slot,
        };
        slot += 1;
        return plan;
      }
      const plan: HistogramPlan = {
        kind: 'histogram',
        name: metric.name,
        value: compileFieldGetter(metric.value),
        valueField: metric.value,
        scale: metric.scale,
        bounds: Float64Array.from(metric.buckets),
        leValues: [...metric.buckets.map(formatLe), '+Inf'],
        slot,
      };
      slot += metric.buckets.length + 3;
      return plan;
    });
    return { labelNames, labelGetters: labelFields.map(compileFieldGetter), metrics: plans, slotCount: slot };
  });
}

/**
 * Formats a bucket bound as Prometheus clients do (Go's shortest round-trip form: `0.01`, `1`,
 * `81.92`), so `le` values match what dashboards written for those clients expect.
 */
export function formatLe(bound: number): string {
  return String(bound);
}
