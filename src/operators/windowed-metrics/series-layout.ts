import type { Label } from '../../core/types.ts';
import type { Aggregator, PointTarget } from '../aggregations/aggregator.ts';
import { isSeriesStateful, SeriesWindowPlan } from '../aggregations/series-state.ts';

/**
 * What a group's series share: how their points are laid out, and which of the per-series
 * columns (series-columns.ts) the group uses at all, decided once, not per series and window.
 */
export interface GroupLayout {
  /**
   * Per aggregator, the one point target of a kind whose only point carries the base labels
   * (counters, gauges, ...), refilled with a series' labels at each emit; undefined for kinds with
   * more points or labels of their own (quantiles, histograms' buckets, static labels) and for
   * stateful kinds, whose targets each series keeps.
   */
  readonly baseTarget: readonly ({ metric: PointTarget['metric']; labels: readonly Label[] } | undefined)[];
  readonly baseTargets: readonly ([PointTarget] | undefined)[];
  /** Does any aggregator keep its targets per series? */
  readonly ownTargets: boolean;
  /** The metrics (in order) of the kinds with state per series (drift, anomaly); empty: none. */
  readonly stateful: readonly number[];
  /** Of those, the ones checkpointed in parts (SeriesStateParts). */
  readonly inParts: readonly number[];
  /** Bits of the cumulative metrics. */
  readonly cumulativeMask: number;
  /** How a series emits a window's per-window and stateful kinds. */
  readonly window: SeriesWindowPlan;
}

export function layoutOf(aggregators: readonly Aggregator[]): GroupLayout {
  const probe: readonly Label[] = [];
  const baseTarget = aggregators.map((a) => {
    if (isSeriesStateful(a)) return undefined;
    const targets = a.targets(probe);
    return targets.length === 1 && targets[0]!.labels === probe ? { metric: targets[0]!.metric, labels: probe } : undefined;
  });
  const metrics = aggregators.map((_, m) => m);
  return {
    baseTarget,
    baseTargets: baseTarget.map((target) => (target ? [target] : undefined)),
    ownTargets: baseTarget.some((t) => t === undefined),
    stateful: metrics.filter((m) => isSeriesStateful(aggregators[m]!)),
    inParts: metrics.filter((m) => {
      const a = aggregators[m]!;
      return isSeriesStateful(a) && a.stateParts !== undefined;
    }),
    cumulativeMask: aggregators.reduce((mask, a, m) => (a.cumulative ? mask | (1 << m) : mask), 0),
    window: new SeriesWindowPlan(aggregators),
  };
}
