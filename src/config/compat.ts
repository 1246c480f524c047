import { isDeepStrictEqual } from 'node:util';
import type { MetricConfig } from '../operators/aggregations/index.ts';
import { groupMetricConfigs } from '../operators/windowed-metrics/plan.ts';
import type { PipelineConfig } from './schema.ts';

/**
 * What a reload of one pipeline needs, decided from the running config and the new one:
 *
 * - `live`: swapped in place while the stages keep running (tenants, tenant resolution,
 *   transforms, decoding, event time): nothing stops, no state is touched;
 * - `rebuild`: the pipeline's stages stop cleanly (stage 1 commits, stage 2 checkpoints) and start
 *   again on the new config from that checkpoint, in the same process (a new metric, a metric's
 *   filter, timing settings): state is kept, delivery pauses for a consumer-group rejoin;
 * - `refused`: the change would move or reshape state (window, partitions, topics, group,
 *   a metric's kind or labels...); the whole reload is refused and nothing is applied.
 *
 * Every entry is a config path with a reason, for the log line and the /-/reload answer.
 */
export interface ReloadDecision {
  readonly live: readonly string[];
  readonly rebuild: readonly string[];
  readonly refused: readonly string[];
}

type Rule = 'live' | 'rebuild' | 'refused';

/**
 * The compatibility table, one entry per config path (the most specific listed path decides;
 * `metrics` has its own rules below). README "Operating Sluice" shows the same table.
 */
const TABLE: readonly (readonly [path: string, rule: Rule, why: string])[] = [
  ['name', 'refused', 'the pipeline name names its internal topic, groups and state'],
  ['source.brokers', 'refused', 'offsets, transactions and the partials topic live on that cluster'],
  ['source.topics', 'refused', 'stage-2 watermarks and committed offsets are per source partition'],
  ['source.group_id', 'refused', 'committed offsets and stage-2 checkpoints belong to the group'],
  ['source', 'rebuild', 'consumer settings are read when the stages start'],
  ['decode', 'live', ''],
  ['event_time', 'live', ''],
  ['tenant', 'live', ''],
  ['constants', 'live', ''],
  ['transforms', 'live', ''],
  ['expression_budget', 'live', ''],
  ['window.type', 'refused', 'open windows and fired-through times are laid out by the window'],
  ['window.size', 'refused', 'open windows and fired-through times are laid out by the window'],
  ['window.slide', 'refused', 'open windows and fired-through times are laid out by the window'],
  ['window.gap', 'refused', 'open sessions are laid out by the gap'],
  ['window', 'rebuild', 'watermark bounds are read when the stages start'],
  ['state.backend', 'refused', 'the checkpoints are in the running backend'],
  ['state.redis_url', 'refused', 'the checkpoints are in the running backend'],
  ['state', 'rebuild', 'checkpoint settings are read when stage 2 starts'],
  ['repartition.partitions', 'refused', 'series would move between stage-2 tasks and their state'],
  ['repartition.skip_unreadable', 'rebuild', 'stage 2 reads the list when its partitions start; the rebuild starts them on it'],
  ['repartition', 'rebuild', 'the flush interval and partials wire are read when stage 1 starts'],
  ['series', 'rebuild', 'series expiry is read when stage 2 starts'],
  ['dead_letter', 'rebuild', 'the dead-letter topic is created when the stages start'],
  ['tenants', 'live', ''],
  ['tenant_registry', 'refused', 'the registry connection is made at start-up'],
  ['telemetry', 'refused', 'the telemetry server keeps its address'],
  ['tests', 'live', ''],
];

/** Decides how `next` can replace `running` (see ReloadDecision). */
export function decideReload(running: PipelineConfig, next: PipelineConfig): ReloadDecision {
  const live: string[] = [];
  const rebuild: string[] = [];
  const refused: string[] = [];
  const note = (rule: Rule, path: string, why: string) => (rule === 'live' ? live : rule === 'rebuild' ? rebuild : refused).push(why ? `${path}: ${why}` : path);
  for (const path of changedPaths(running as unknown as Record<string, unknown>, next as unknown as Record<string, unknown>)) {
    if (path === 'metrics' || path.startsWith('metrics.')) continue;
    const entry = TABLE.find(([listed]) => path === listed || path.startsWith(`${listed}.`));
    // A top-level key this table does not know of: never guess that it is safe.
    if (entry === undefined) note('refused', path, 'no reload rule for this setting; restart to apply it');
    else note(entry[1], path, entry[1] === 'refused' ? `${entry[2]}; restart with fresh state to change it` : entry[2]);
  }
  decideMetrics(running.metrics, next.metrics, note);
  return { live: dedupe(live), rebuild: dedupe(rebuild), refused: dedupe(refused) };
}

/** Only these fields of a metric change without touching its state or its series. */
const METRIC_LIVE_FIELDS = new Set(['filter', 'help']);

/**
 * Metrics, by identity (name and static labels, as the schema's duplicate rule): a new one and a
 * changed filter or help rebuild the stages; a removed one, any other changed field (kind, labels,
 * buckets...), or an addition that moves existing metrics within the layout partials and
 * checkpoints use (see groupMetricConfigs) is refused.
 */
function decideMetrics(running: readonly MetricConfig[], next: readonly MetricConfig[], note: (rule: Rule, path: string, why: string) => void): void {
  const before = new Map(running.map((metric) => [metricIdentity(metric), metric]));
  const after = new Map(next.map((metric) => [metricIdentity(metric), metric]));
  for (const [identity, old] of before) {
    const now = after.get(identity);
    if (now === undefined) {
      note('refused', `metrics "${old.name}"`, 'a removed metric drops its state; restart with fresh state to remove it');
      continue;
    }
    const fields = changedPaths(old as unknown as Record<string, unknown>, now as unknown as Record<string, unknown>).map((path) => path.split('.')[0]!);
    for (const field of new Set(fields)) {
      if (METRIC_LIVE_FIELDS.has(field)) note('rebuild', `metrics "${old.name}".${field}`, 'aggregators are built when the stages start');
      else note('refused', `metrics "${old.name}".${field}`, "changes the metric's state or its series; restart with fresh state to change it");
    }
  }
  const added = next.filter((metric) => !before.has(metricIdentity(metric)));
  if (added.length === 0) return;
  const moved = layoutMove(running, next);
  if (moved !== undefined) {
    note('refused', `metrics "${added[0]!.name}"`, `adding it moves ${moved} within the state layout; list new metrics after the existing ones that share their labels, and new label sets after the existing groups`);
    return;
  }
  for (const metric of added) note('rebuild', `metrics "${metric.name}"`, 'a new metric is added when the stages start again');
}

/**
 * Partials and checkpoints name a metric by (group index, position in group): the new layout must
 * keep every existing metric where it was, new ones only appended. Returns what would move.
 */
function layoutMove(running: readonly MetricConfig[], next: readonly MetricConfig[]): string | undefined {
  const before = groupMetricConfigs(running);
  const after = groupMetricConfigs(next);
  for (const [g, group] of before.entries()) {
    const now = after[g];
    for (const [m, metric] of group.metrics.entries()) {
      const there = now?.metrics[m];
      if (there === undefined || metricIdentity(there) !== metricIdentity(metric)) return `metric "${metric.name}"`;
    }
  }
  return undefined;
}

export function metricIdentity(metric: MetricConfig): string {
  const statics = 'static_labels' in metric ? metric.static_labels : {};
  return `${metric.name}${JSON.stringify(Object.entries(statics ?? {}).sort())}`;
}

/**
 * Paths (dotted, record keys included: `tenants.tenants.acme.endpoint`) whose values differ,
 * down to the first level where an array or a scalar differs.
 */
export function changedPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (!isPlainObject(a) || !isPlainObject(b)) return [prefix];
  const out: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    out.push(...changedPaths(a[key], b[key], prefix ? `${prefix}.${key}` : key));
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function dedupe(items: readonly string[]): string[] {
  return [...new Set(items)];
}
