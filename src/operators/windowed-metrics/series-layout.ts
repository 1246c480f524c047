import type { Label } from '../../core/types.ts';
import type { Aggregator, PointTarget } from '../aggregations/aggregator.ts';
import { isSeriesStateful } from '../aggregations/series-state.ts';
import { SeriesColumns } from './series-columns.ts';

/**
 * A series in stage 2. Its numbers (newest data window's end, running totals' starts, counters'
 * and histograms' accumulators) are in its group's SeriesColumns at `slot`; read and change them
 * through MergerSeries (and SeriesEmission). A counter series costs ~200 B in all (`test/bench/state-bench.ts`).
 */
export interface SeriesState {
  readonly key: string;
  readonly group: number;
  readonly tenant: string;
  /**
   * Its base labels (sorted, no `__name__`), one array for the series' life: the points carry it,
   * and the sinks cache a series' encoding by its identity. The label values follow from it.
   */
  readonly labels: readonly Label[];
  /** Per aggregator, its points' targets when they are more than the base labels (absent: all are). */
  readonly outputs: readonly (readonly PointTarget[] | undefined)[] | undefined;
  /** Per aggregator, a cumulative accumulator kept as an object, not in the row (absent: none). */
  readonly cumulative: unknown[] | undefined;
  /** Its row in its group's SeriesColumns. */
  readonly slot: number;
  /** Metrics (bits) of this series that have had data: only those are emitted. */
  touched: number;
  /** Per aggregator, the state a drift or anomaly kind keeps across windows (absent: none in the group). */
  readonly states: unknown[] | undefined;
  /** Birth order (the series map's order, which restore keeps) and name in incremental checkpoints. */
  readonly seq: number;
  /** Changed since the last incremental checkpoint (a flag, not a set: 13 B less per series). */
  changed: boolean;
}

/** What a group's series share: how their points and numbers are laid out. */
export interface GroupLayout {
  readonly columns: SeriesColumns;
  /**
   * Per aggregator, the one point target of a kind whose only point carries the base labels
   * (counters, gauges, ...), refilled with a series' labels at each emit; undefined for kinds with
   * more points or labels of their own (quantiles, histograms' buckets, static labels) and for
   * stateful kinds, whose targets each series keeps.
   */
  readonly baseTarget: readonly ({ metric: PointTarget['metric']; labels: readonly Label[] } | undefined)[];
  readonly baseTargets: readonly ([PointTarget] | undefined)[];
  /** Does any aggregator keep its targets per series? Any cumulative one as an object? */
  readonly ownTargets: boolean;
  readonly objectAccs: boolean;
}

export function layoutOf(aggregators: readonly Aggregator[]): GroupLayout {
  const probe: readonly Label[] = [];
  const baseTarget = aggregators.map((a) => {
    if (isSeriesStateful(a)) return undefined;
    const targets = a.targets(probe);
    return targets.length === 1 && targets[0]!.labels === probe ? { metric: targets[0]!.metric, labels: probe } : undefined;
  });
  const columns = new SeriesColumns(aggregators);
  return {
    columns,
    baseTarget,
    baseTargets: baseTarget.map((target) => (target ? [target] : undefined)),
    ownTargets: baseTarget.some((t) => t === undefined),
    objectAccs: aggregators.some((a, m) => a.cumulative && !columns.inRow(m)),
  };
}
