import type { MetricConfig, WindowConfig } from '../../config/schema.ts';
import { compileFieldGetter, type FieldGetter } from '../../core/field-path.ts';
import { byName, SKIP, type Aggregator } from '../aggregations/aggregator.ts';
import { compileExpression } from '../transforms/expression.ts';
import { CounterAggregator } from '../aggregations/counter.ts';
import { ChildCountAggregator } from '../aggregations/child-count.ts';
import { CounterRateAggregator } from '../aggregations/counter-rate.ts';
import { PassthroughAggregator } from '../aggregations/passthrough.ts';
import { RollupAggregator } from '../aggregations/rollup.ts';
import { DistinctAggregator } from '../aggregations/distinct.ts';
import { HistogramAggregator } from '../aggregations/histogram.ts';
import { QuantilesAggregator } from '../aggregations/quantiles.ts';
import { WindowGaugeAggregator } from '../aggregations/window-gauge.ts';

/**
 * The compiled form of the `metrics` section. Metrics with the same label mapping share one
 * series group, so a record builds each distinct series key once however many metrics read it.
 */
export interface SeriesGroupPlan {
  /** Output label names, sorted, in the order their values are read. */
  readonly labelNames: readonly string[];
  readonly labelGetters: readonly FieldGetter[];
  readonly aggregators: readonly Aggregator[];
  /**
   * Passthrough groups take name and labels from each record instead: label values are then
   * the flat pairs `['__name__', name, k1, v1, ...]`, sorted by label name.
   */
  readonly dynamic?: { readonly name: FieldGetter; readonly labels: FieldGetter };
}

/** How records map to windows: fixed panes (tumbling = one pane per window, hopping = size/slide panes) or sessions. */
export type Windowing =
  | { readonly kind: 'panes'; readonly sizeMs: number; readonly slideMs: number }
  | { readonly kind: 'session'; readonly gapMs: number };

export function planWindowing(window: WindowConfig): Windowing {
  switch (window.type) {
    case 'tumbling':
      return { kind: 'panes', sizeMs: window.size, slideMs: window.size };
    case 'hopping':
      return { kind: 'panes', sizeMs: window.size, slideMs: window.slide };
    case 'session':
      return { kind: 'session', gapMs: window.gap };
  }
}

export function createAggregator(metric: MetricConfig): Aggregator {
  const aggregator = createUnfiltered(metric);
  const statics = 'static_labels' in metric ? Object.entries(metric.static_labels) : [];
  if (statics.length > 0) {
    // Static labels win over a data label of the same name.
    const extra = statics.map(([name, value]) => ({ name, value }));
    const targets = aggregator.targets.bind(aggregator);
    aggregator.targets = (base) => targets([...base.filter((l) => !extra.some((e) => e.name === l.name)), ...extra].sort(byName));
  }
  if (metric.filter === undefined) return aggregator;
  // A metric filter reads the record before the value: false means "not for this metric".
  const filter = compileExpression(metric.filter);
  const read = aggregator.read.bind(aggregator);
  aggregator.read = (record) => {
    let keep: unknown;
    try {
      keep = filter(record);
    } catch {
      return SKIP;
    }
    return keep === true ? read(record) : SKIP;
  };
  return aggregator;
}

function createUnfiltered(metric: MetricConfig): Aggregator {
  const about = { help: metric.help, unit: metric.unit };
  switch (metric.type) {
    case 'counter':
      return new CounterAggregator(metric.name, metric.value, about) as Aggregator;
    case 'histogram':
      return new HistogramAggregator(metric.name, metric.value, metric.scale, metric.buckets, about) as Aggregator;
    case 'gauge':
      return new WindowGaugeAggregator(metric.name, metric.aggregate, metric.value, about) as Aggregator;
    case 'quantiles':
      return new QuantilesAggregator(metric.name, metric.value, metric.quantiles, metric.relative_accuracy, metric.scale, about) as Aggregator;
    case 'distinct':
      return new DistinctAggregator(metric.name, metric.value, metric.precision, about) as Aggregator;
    case 'passthrough':
      return new PassthroughAggregator(metric.name, metric.value) as Aggregator;
    case 'rollup':
      return new RollupAggregator(metric.name, metric.value, metric.members, metric.aggregate, about) as unknown as Aggregator;
    case 'counter_rate':
      return new CounterRateAggregator(
        metric.name,
        metric.value,
        metric.members,
        { output: metric.output, ...(metric.member_expiry !== undefined ? { memberExpiryMs: metric.member_expiry } : {}) },
        about,
      ) as unknown as Aggregator;
    case 'child_count':
      return new ChildCountAggregator(metric.name, metric.role, metric.join_key, metric.buckets, metric.max_wait, about) as unknown as Aggregator;
  }
}

export function planMetrics(metrics: readonly MetricConfig[]): SeriesGroupPlan[] {
  const groups = new Map<string, { labelNames: string[]; labelFields: string[]; metrics: MetricConfig[] }>();
  const passthrough: SeriesGroupPlan[] = [];
  for (const metric of metrics) {
    if (metric.type === 'passthrough') {
      passthrough.push({
        labelNames: [],
        labelGetters: [],
        aggregators: [createAggregator(metric)],
        dynamic: { name: compileFieldGetter(metric.metric_name), labels: compileFieldGetter(metric.metric_labels) },
      });
      continue;
    }
    const labelNames = Object.keys(metric.labels).sort();
    const labelFields = labelNames.map((name) => metric.labels[name]!);
    const key = labelNames.map((name, i) => `${name}=${labelFields[i]}`).join('\u0000');
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { labelNames, labelFields, metrics: [] }));
    group.metrics.push(metric);
  }
  for (const { labelNames, metrics: groupMetrics } of groups.values()) {
    // Each partial tracks which of its group's metrics took data in one 31-bit mask.
    if (groupMetrics.length > 31) throw new Error(`more than 31 metrics share the labels {${labelNames.join(', ')}}; split them`);
  }
  const fixed = [...groups.values()].map(({ labelNames, labelFields, metrics: groupMetrics }) => ({
    labelNames,
    labelGetters: labelFields.map(compileFieldGetter),
    aggregators: groupMetrics.map(createAggregator),
  }));
  return [...fixed, ...passthrough];
}
