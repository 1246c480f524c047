import type { MetricPoint } from '../../core/metric-model.ts';
import type { ScoreEvent } from '../aggregations/series-state.ts';
import { MergerSeries } from './merger-series.ts';
import type { MergerHead, MergerSnapshot, WindowsSnapshot } from './merger-snapshot.ts';
import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan, Windowing } from './plan.ts';
import { SessionWindows } from './session-windows.ts';
import { TimeWindows } from './time-windows.ts';

export type { MergerHead, MergerSnapshot } from './merger-snapshot.ts';

/** Where a merger's output goes: the runtime's outbox, or a test's array. */
export interface PointEmitter {
  emit(tenant: string, points: MetricPoint[]): void;
}

export interface MergerOptions {
  readonly allowedLatenessMs: number;
  readonly expireAfterMs: number;
  /**
   * Per tenant, the most series (as the receiver counts them: every histogram bucket) this
   * merger keeps state for, and, separately, the most it keeps totals of after they expired.
   * Absent: no limit.
   */
  readonly seriesBudget?: (tenant: string) => number;
  /** This merger's stage-2 partition, named on its overflow series (absent: a single merger). */
  readonly partition?: number;
  /** A partial of a new series beyond the budget was folded into its overflow series. */
  readonly onFolded?: (tenant: string) => void;
  /** The retained totals of an expired series were dropped to stay within the budget. */
  readonly onTotalsDropped?: (tenant: string) => void;
  /** An anomaly event, emitted in window order with the samples (absent: events are dropped). */
  readonly onEvent?: (event: ScoreEvent) => void;
}

/**
 * One windowing type's part of the merger: where partials wait until their window closes, and
 * what closing a window emits. Time windows (time-windows.ts) and sessions (session-windows.ts).
 */
export interface MergerWindows {
  /** Merges one partial; 'late' if its window has already fired. */
  add(partial: PartialAggregate, watermark: number): 'ok' | 'late';
  /** Fires every window the watermark closes, in order. */
  fire(watermark: number): void;
  /** The watermark that fires the next window (its end plus the allowed lateness); +Infinity when none waits, or for sessions, which are not stepped. */
  nextFireAt(): number;
  /** The partials waiting for their window (for the budget's recount after a restore). */
  waiting(): Iterable<PartialAggregate>;
  snapshot(): WindowsSnapshot;
  restore(wire: WindowsSnapshot): void;
}

/**
 * Stage 2's windowing: merges partials from every source partition, fires each window once
 * when the watermark passes its end plus the allowed lateness, and emits samples stamped with
 * the window end — cumulative series at every window (like a scrape), per-window gauges for
 * series with data, and a stale marker once a series has had no data for `expire_after`.
 *
 * Series are born when their first partial arrives: within the tenant's series budget they get
 * state of their own, beyond it they fold into the tenant's overflow series, so memory follows
 * the configuration, not the input. An expired cumulative series leaves its totals behind and
 * resumes from them when it returns (merger-series.ts). When a window closes is the windowing
 * type's, chosen once from the configuration (MergerWindows).
 *
 * Everything it does is a function of the partials and watermarks it is given, in order (the
 * budget's decisions included: they depend only on the series held, which the snapshot holds),
 * so a replay from a checkpoint reproduces every sample bit for bit.
 */
export class WindowMerger {
  private readonly series: MergerSeries;
  private readonly windows: MergerWindows;
  private watermark = Number.NEGATIVE_INFINITY;

  constructor(
    groups: readonly SeriesGroupPlan[],
    windowing: Windowing,
    options: MergerOptions,
    private readonly emitter: PointEmitter,
  ) {
    this.series = new MergerSeries(groups, options);
    this.windows =
      windowing.kind === 'session'
        ? new SessionWindows(windowing.gapMs, this.series, options)
        : new TimeWindows(windowing.sizeMs, windowing.slideMs, this.series, options);
  }

  get currentWatermark(): number {
    return this.watermark;
  }

  /** The watermark that fires the next window; +Infinity when none waits (and for sessions). */
  get nextFireAt(): number {
    return this.windows.nextFireAt();
  }

  get seriesCount(): number {
    return this.series.table.size;
  }

  /** Expired series whose totals are kept for their return. */
  get retainedCount(): number {
    return this.series.retainedCount;
  }

  /** Merges one partial; 'late' if its window has already fired (an upstream bug, counted by the caller). */
  addPartial(incoming: PartialAggregate): 'ok' | 'late' {
    return this.windows.add(incoming, this.watermark);
  }

  /** Moves the watermark forward (never back), firing every window it closes, in order. */
  advanceWatermark(watermark: number): void {
    if (!(watermark > this.watermark)) return;
    this.watermark = watermark;
    this.windows.fire(watermark);
    this.series.emission.flushPending((tenant, points) => this.emitter.emit(tenant, points));
  }

  /** Plain data (msgpack-friendly) from which `restore` rebuilds this merger exactly. */
  snapshot(): MergerSnapshot {
    return { ...this.headWire(), ...this.series.snapshot() };
  }

  /**
   * The part of an incremental checkpoint written every time: watermarks and the open panes and
   * sessions (they change with every partial, and are gone once their window fired).
   */
  head(): MergerHead {
    return { ...this.headWire(), nextSeq: this.series.sequence };
  }

  /**
   * The entries (series and retained totals, by name) that changed since the last call, or all of
   * them if `all`, and the names of the entries gone; from now on, changes count afresh.
   * With `head()`, what `restoreIncremental` rebuilds this merger from exactly.
   */
  changes(all: boolean): { put: [string, unknown][]; remove: string[] } {
    return this.series.changes(all);
  }

  /** Rebuilds this merger from a full snapshot (the previous checkpoint format, tests). */
  restore(snapshot: MergerSnapshot): void {
    this.restoreWindows(snapshot);
    this.series.restore(snapshot.series, snapshot.retired);
    this.series.recountBudget(this.windows.waiting());
  }

  /** Rebuilds this merger from an incremental checkpoint: its head and every entry `changes` wrote. */
  restoreIncremental(head: MergerHead, entries: Iterable<readonly [string, unknown]>): void {
    this.restoreWindows(head);
    this.series.restoreIncremental(head.nextSeq, entries);
    this.series.recountBudget(this.windows.waiting());
  }

  /** The watermark and the windows' part, in the checkpoint's key order. */
  private headWire(): Omit<MergerSnapshot, 'series' | 'retired'> {
    const { firedThrough, nextEnd, panes, sessions } = this.windows.snapshot();
    return { watermark: this.watermark, firedThrough, nextEnd, panes, sessions };
  }

  private restoreWindows(head: Omit<MergerSnapshot, 'series' | 'retired'>): void {
    this.watermark = head.watermark;
    this.windows.restore(head);
  }
}
