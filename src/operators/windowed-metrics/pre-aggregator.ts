import type { Rejection } from '../../core/dead-letter-reason.ts';
import { InvalidInput, SKIP } from '../aggregations/aggregator.ts';
import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan, Windowing } from './plan.ts';
import { compileGroupSteps, type GroupAdd, type GroupRead } from './group-steps.ts';
import { PaneFragments, paneStart } from './pane-fragments.ts';
import { RecordSeries } from './record-series.ts';
import { SessionFragments } from './session-fragments.ts';
import { groupKeyPrefix, isSeriesId, seriesReader, type SeriesId, type SeriesReader } from './series-key.ts';

/**
 * Past this many series held, stage 1 flushes before its `flush_interval`: a label flood then
 * costs stage 1 more, smaller transactions instead of memory. Stage 2, which sees each series
 * in one place, decides which series are within the tenant's budget; stage 1 folds nothing,
 * since what it could decide alone per partition would differ from stage 2's decision.
 */
export const MAX_COMBINER_SERIES = 20_000;

/**
 * Makes the partials a windowing type hands out: the combiner itself. An object whose method is
 * called, not a closure: each combiner's own closure reached the call site inlined into
 * `PreAggregator.add` as another target, and V8 threw that optimised code away when a second
 * source partition's combiner made its first partial (issue 12's warm-up).
 */
export interface PartialMaker {
  newPartial(g: number, key: string, tenant: string, start: number, end: number): PartialAggregate;
}

/**
 * One windowing type's part of the combiner: which partial a record of a series at an event time
 * goes into. Time windows (pane-fragments.ts) and sessions (session-fragments.ts).
 */
export interface CombinerWindows {
  readonly seriesCount: number;
  /** `paneStart` is the event time's pane start (NaN for sessions), computed once per record by the combiner. */
  partialFor(g: number, key: string, tenant: string, eventTimeMs: number, paneStart: number): PartialAggregate;
  /** Everything held, handed over; the windows start empty again. */
  drain(): PartialAggregate[];
}

/**
 * Stage 1's combiner: folds accepted records into one partial per series and pane (or session
 * fragment) until the next flush, so stage 2 receives one partial per series per window from
 * each source partition instead of every record.
 */
export class PreAggregator implements PartialMaker {
  private readonly fragments: CombinerWindows;
  private readonly valueScratch: unknown[][];
  /** Per group: does any metric of the group take this record? */
  private readonly takes: boolean[];
  /** Per group, the record's series (read before any state changes). */
  private readonly seriesScratch: SeriesId[];
  /** Per group, its series reader (under the key prefix that keeps series of different groups apart). */
  private readonly series: SeriesReader[];
  /** Every fixed group's series of a record in one trie walk (undefined: nothing to share). */
  private readonly recordSeries: RecordSeries | undefined;
  /** Per group, its data-quality metrics (they count records dead-lettered as invalid). */
  private readonly quality: number[][];
  /** Per group, its metrics' reads and adds as one generated step each (group-steps.ts). */
  private readonly reads: GroupRead[];
  private readonly adds: GroupAdd[];
  /** The pane length of time windows; NaN for sessions, whose partials a record's tuple does not remember. */
  private readonly slideMs: number;
  /** The pane start of the last event time added (every group of a record, and most records of a flush, share its pane). */
  private lastStart = NaN;

  constructor(
    private readonly groups: readonly SeriesGroupPlan[],
    windowing: Windowing,
  ) {
    this.fragments = windowing.kind === 'panes' ? new PaneFragments(windowing.slideMs, this) : new SessionFragments(windowing.gapMs, this, groups);
    this.slideMs = windowing.kind === 'panes' ? windowing.slideMs : NaN;
    this.valueScratch = groups.map((g) => new Array<unknown>(g.aggregators.length));
    this.takes = groups.map(() => false);
    this.seriesScratch = new Array<SeriesId>(groups.length);
    this.series = groups.map((group, g) => seriesReader(group, groupKeyPrefix(g)));
    this.recordSeries = RecordSeries.of(groups, this.series);
    this.quality = groups.map((g) => g.aggregators.flatMap((a, m) => (a.countRejected !== undefined ? [m] : [])));
    const steps = groups.map((g) => compileGroupSteps(g.aggregators));
    this.reads = steps.map((step) => step.read);
    this.adds = steps.map((step) => step.add);
  }

  /** Adds one record; returns a rejection (and changes nothing) if it cannot count. */
  add(tenant: string, eventTimeMs: number, record: Record<string, unknown>): Rejection | undefined {
    const groupCount = this.groups.length;
    const tuple = this.recordSeries?.lookup(tenant, record);
    const known = tuple?.series;
    // Read and check everything before touching state: a record counts in every metric or none.
    for (let g = 0; g < groupCount; g++) {
      const takes = this.reads[g]!(record, this.valueScratch[g]!);
      if (takes instanceof InvalidInput) {
        this.countViolation(tenant, eventTimeMs, record);
        return takes;
      }
      this.takes[g] = takes;
      // The series labels only of groups that take the record: a record its filters leave out
      // (a NaN passthrough sample, say, where another group labels by `value`) is not theirs to refuse.
      if (!takes) continue;
      const series = known?.[g] ?? this.series[g]!(tenant, record);
      if (!isSeriesId(series)) return series;
      this.seriesScratch[g] = series;
    }
    // NaN for sessions: no remembered partial's start equals it.
    const start = this.paneStartOf(eventTimeMs);
    const remembered = Number.isNaN(start) ? undefined : tuple?.partials;
    for (let g = 0; g < groupCount; g++) {
      if (!this.takes[g]) continue; // filtered out of every metric of the group: no series either
      let partial = remembered?.[g];
      if (partial === undefined || partial.start !== start) {
        partial = this.fragments.partialFor(g, this.seriesScratch[g]!.key, tenant, eventTimeMs, start);
        // Not for passthrough groups: their series is the record's own, not the tuple's.
        if (remembered !== undefined && known![g] !== undefined) remembered[g] = partial;
      }
      partial.touched |= this.adds[g]!(partial.accs, this.valueScratch[g]!, eventTimeMs);
    }
    return undefined;
  }

  /**
   * The pane start of an event time (NaN for sessions). A record in the last record's pane, as
   * most are, costs two comparisons: event times (whole milliseconds, event-time.ts) are past
   * int32, so `paneStart`'s `%` is a floating-point modulo, and consecutive gateway records
   * rarely share their millisecond.
   */
  private paneStartOf(eventTimeMs: number): number {
    const last = this.lastStart; // NaN at first and for sessions: both comparisons false
    if (eventTimeMs >= last && eventTimeMs < last + this.slideMs) return last;
    return (this.lastStart = paneStart(eventTimeMs, this.slideMs));
  }

  /**
   * A record about to be dead-lettered as invalid still counts, as a schema violation, in the
   * data-quality metrics of the series it would have gone to (when its labels can be read).
   */
  private countViolation(tenant: string, eventTimeMs: number, record: Record<string, unknown>): void {
    for (let g = 0; g < this.groups.length; g++) {
      const quality = this.quality[g]!;
      if (quality.length === 0) continue;
      const group = this.groups[g]!;
      const series = this.series[g]!(tenant, record);
      if (!isSeriesId(series)) continue;
      this.seriesScratch[g] = series;
      const partial = this.fragments.partialFor(g, series.key, tenant, eventTimeMs, this.paneStartOf(eventTimeMs));
      for (const m of quality) {
        if (group.aggregators[m]!.read(record) === SKIP) continue; // its filter leaves the record out
        group.aggregators[m]!.countRejected!(partial.accs[m]);
        partial.touched |= 1 << m;
      }
    }
  }

  /** Hands over everything accumulated since the last drain. */
  drain(): PartialAggregate[] {
    this.recordSeries?.forgetPartials();
    return this.fragments.drain();
  }

  /** Series (keys) held since the last drain. */
  get seriesCount(): number {
    return this.fragments.seriesCount;
  }

  get isEmpty(): boolean {
    return this.fragments.seriesCount === 0;
  }

  /** A new partial of the series just read for group `g` (its label values are the series' own, shared): for the windows (PartialMaker). */
  newPartial(g: number, key: string, tenant: string, start: number, end: number): PartialAggregate {
    // A loop, not `aggregators.map(create)`: the array `map` makes has another elements kind
    // before V8 optimises this function than after, and each group's generated add
    // (group-steps.ts), compiled for one, was deoptimised by the other (8 deopts in a run).
    const aggregators = this.groups[g]!.aggregators;
    const accs = new Array<unknown>(aggregators.length);
    for (let m = 0; m < aggregators.length; m++) accs[m] = aggregators[m]!.create();
    return {
      group: g,
      key,
      tenant,
      labelValues: this.seriesScratch[g]!.values,
      start,
      end,
      accs,
      touched: 0,
    };
  }
}
