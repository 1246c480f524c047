import type { WindowConfig } from '../../config/schema.ts';
import { compileFieldGetter, type FieldGetter } from '../../core/field-path.ts';
import type { Aggregator } from '../aggregations/aggregator.ts';
import { FilteredAggregator, StaticLabelsAggregator } from '../aggregations/decorators.ts';
import { kindOf, type MetricConfig } from '../aggregations/index.ts';
import { compileExpression } from '../transforms/expression.ts';

/**
 * The compiled form of the `metrics` section. Metrics with the same label mapping share one
 * series group, so a record builds each distinct series key once however many metrics read it.
 */
export interface SeriesGroupPlan {
  /** Output label names, sorted, in the order their values are read. */
  readonly labelNames: readonly string[];
  readonly labelGetters: readonly FieldGetter[];
  /** The record field each label is read from (as configured), where known: groups reading the same field share its read. */
  readonly labelPaths?: readonly string[];
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

/**
 * Whether stage 2's watermark moving from `from` to `to` can fire a window: a time window fires
 * once the watermark reaches its end plus the allowed lateness, and window ends lie on the `slide`
 * grid from the epoch. A session closes at each series' own last event plus the gap, so for
 * sessions any move can.
 */
export function watermarkMoveFires(windowing: Windowing, allowedLatenessMs: number, from: number, to: number): boolean {
  if (!(to > from)) return false;
  if (windowing.kind === 'session' || from === Number.NEGATIVE_INFINITY) return true;
  const slide = windowing.slideMs;
  return Math.floor((to - allowedLatenessMs) / slide) > Math.floor((from - allowedLatenessMs) / slide);
}

/** The configured metric's aggregator: its kind's, with its static labels and filter around it. */
export function createAggregator(metric: MetricConfig): Aggregator {
  let aggregator: Aggregator<any, any> = kindOf(metric).create(metric, { help: metric.help, unit: metric.unit });
  const statics = 'static_labels' in metric ? Object.entries(metric.static_labels) : [];
  if (statics.length > 0) aggregator = new StaticLabelsAggregator(aggregator, statics.map(([name, value]) => ({ name, value })));
  if ('filter' in metric && metric.filter !== undefined) aggregator = new FilteredAggregator(aggregator, compileExpression(metric.filter));
  return aggregator;
}

/**
 * Which metrics share a series group, in the order groups are numbered (fixed label mappings by
 * first use, then passthrough metrics): partials and checkpoints name a metric by its group index
 * and its position in the group, so this order is what a config change must keep (config/compat).
 */
export function groupMetricConfigs(metrics: readonly MetricConfig[]): { readonly metrics: readonly MetricConfig[]; readonly passthrough: boolean }[] {
  const groups = new Map<string, MetricConfig[]>();
  const passthrough: MetricConfig[] = [];
  for (const metric of metrics) {
    if (kindOf(metric).dynamicSeries?.(metric) !== undefined) {
      passthrough.push(metric);
      continue;
    }
    if (!('labels' in metric)) throw new Error(`metric ${metric.name}: a kind without dynamic series needs labels`);
    const labelNames = Object.keys(metric.labels).sort();
    const key = labelNames.map((name) => `${name}=${metric.labels[name]!}`).join('\u0000');
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(metric);
  }
  return [...[...groups.values()].map((group) => ({ metrics: group, passthrough: false })), ...passthrough.map((metric) => ({ metrics: [metric], passthrough: true }))];
}

export function planMetrics(metrics: readonly MetricConfig[]): SeriesGroupPlan[] {
  return groupMetricConfigs(metrics).map(({ metrics: groupMetrics, passthrough }) => {
    if (passthrough) {
      const metric = groupMetrics[0]!;
      return { labelNames: [], labelGetters: [], aggregators: [createAggregator(metric)], dynamic: kindOf(metric).dynamicSeries!(metric)! };
    }
    const first = groupMetrics[0]! as MetricConfig & { labels: Record<string, string> };
    const labelNames = Object.keys(first.labels).sort();
    // Each partial tracks which of its group's metrics took data in one 31-bit mask.
    if (groupMetrics.length > 31) throw new Error(`more than 31 metrics share the labels {${labelNames.join(', ')}}; split them`);
    const aggregators = groupMetrics.map(createAggregator);
    groupMetrics.forEach((metric, m) => kindOf(metric).bind?.(metric, aggregators[m]!, { metrics: groupMetrics, aggregators }));
    const labelPaths = labelNames.map((name) => first.labels[name]!);
    return { labelNames, labelGetters: labelPaths.map(compileFieldGetter), labelPaths, aggregators };
  });
}
