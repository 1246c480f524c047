import type { MetricPoint } from '../../core/metric-model.ts';
import { seriesPerPoint } from '../../core/series-count.ts';
import type { PointTarget } from '../aggregations/aggregator.ts';
import { emitSeriesWindow, isSeriesStateful, type WindowContext } from '../aggregations/series-state.ts';
import type { MergerSnapshot, SeriesWire } from './merger-snapshot.ts';
import { decodeStarts, encodeStarts } from './merger-snapshot.ts';
import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan } from './plan.ts';
import { RetiredTotals } from './retired-totals.ts';
import { SeriesBudget, UNLIMITED } from './series-budget.ts';
import { baseLabels, isOverflowKey, overflowSeries } from './series-key.ts';
import type { MergerOptions } from './window-merger.ts';

export interface SeriesState {
  readonly group: number;
  readonly tenant: string;
  readonly labelValues: readonly (string | undefined)[];
  /** Per aggregator, its points' descriptors and labels (built once per series). */
  readonly outputs: readonly (readonly PointTarget[])[];
  /** Per aggregator, the cumulative accumulator (undefined for per-window aggregators). */
  readonly cumulative: unknown[];
  /**
   * Per cumulative aggregator, when its running total started: the start of the first window it
   * emitted. Checkpointed and kept with retired totals, so a restore or a return keeps it.
   */
  readonly starts: (number | undefined)[];
  /** End of the newest window that had data for this series. */
  lastDataEnd: number;
  /** Metrics (bits) of this series that have had data: only those are emitted. */
  touched: number;
  /** Per aggregator, the state a drift or anomaly kind keeps across windows (absent: none in the group). */
  readonly states?: unknown[];
}

/**
 * Stage 2's series, whatever the windows: their state, the tenant's series budget (admission,
 * overflow, release), retired totals, and what a series emits (per-window kinds, stale markers),
 * buffered per tenant until the merger flushes. The window strategies (time-windows.ts,
 * session-windows.ts) decide when a window closes and call in here.
 */
export class MergerSeries {
  readonly states = new Map<string, SeriesState>();
  private pending = new Map<string, MetricPoint[]>();
  /** Per group: does it have per-window aggregators at all (decided once, not per series and window)? */
  readonly hasWindowed: readonly boolean[];
  /** Per group: the series one key stands for at the receiver, all metrics / cumulative ones. */
  private readonly cost: readonly number[];
  private readonly cumulativeCost: readonly number[];
  private readonly cumulativeMask: readonly number[];
  private readonly budget: SeriesBudget;
  /** Keys admitted to the budget whose partials wait in panes or sessions, with no state yet. */
  private readonly unborn = new Set<string>();
  private readonly retired: RetiredTotals;
  private readonly overflowPartition: string | undefined;
  /** Per group: does it hold a kind with per-series state (drift, anomaly)? */
  private readonly hasStateful: readonly boolean[];
  private readonly windowContext: WindowContext;

  constructor(
    readonly groups: readonly SeriesGroupPlan[],
    private readonly options: MergerOptions,
  ) {
    this.hasWindowed = groups.map((group) => group.aggregators.some((a) => !a.cumulative));
    this.hasStateful = groups.map((group) => group.aggregators.some(isSeriesStateful));
    const onEvent = options.onEvent ?? (() => {});
    this.windowContext = { tenant: '', seriesKey: '', windowStartMs: 0, windowEndMs: 0, windowSeconds: 0, seriesStartMs: 0, event: onEvent };
    const outputs = (group: SeriesGroupPlan, cumulativeOnly: boolean) =>
      group.aggregators.reduce((sum, a) => sum + (cumulativeOnly && !a.cumulative ? 0 : a.targets([]).reduce((n, t) => n + seriesPerPoint(t.metric), 0)), 0);
    this.cost = groups.map((group) => outputs(group, false));
    this.cumulativeCost = groups.map((group) => outputs(group, true));
    this.cumulativeMask = groups.map((group) => group.aggregators.reduce((mask, a, m) => (a.cumulative ? mask | (1 << m) : mask), 0));
    this.overflowPartition = options.partition === undefined ? undefined : String(options.partition);
    const limitOf = options.seriesBudget ?? UNLIMITED;
    this.budget = new SeriesBudget(limitOf);
    const onDrop = options.onTotalsDropped ?? (() => {});
    this.retired = new RetiredTotals(limitOf, (g) => this.cumulativeCost[g]!, onDrop);
  }

  /** Expired series whose totals are kept for their return. */
  get retainedCount(): number {
    return this.retired.size;
  }

  isKnown(key: string): boolean {
    return this.states.has(key) || this.unborn.has(key) || isOverflowKey(key);
  }

  /**
   * The partial as this merger keeps it: as it came for a known series or a new one within its
   * tenant's budget, else re-keyed onto the tenant's overflow series (its values merge there).
   */
  admit(partial: PartialAggregate): PartialAggregate {
    if (this.isKnown(partial.key)) return partial;
    if (this.budget.tryTake(partial.tenant, this.cost[partial.group]!)) {
      this.unborn.add(partial.key);
      return partial;
    }
    this.options.onFolded?.(partial.tenant);
    const overflow = overflowSeries(this.groups[partial.group]!, partial.group, partial.tenant, partial.labelValues, this.overflowPartition);
    return { ...partial, key: overflow.key, labelValues: overflow.labelValues };
  }

  unadmit(partial: PartialAggregate): void {
    this.unborn.delete(partial.key);
    this.budget.release(partial.tenant, this.cost[partial.group]!);
  }

  /**
   * Drops an expired series' state, keeping its cumulative totals for its return. A series
   * with data already waiting in a later window (`waitsLater`) keeps its place in the budget (as
   * a series not born yet), exactly as a restore from a snapshot taken now would count it.
   */
  expire(key: string, series: SeriesState, waitsLater: boolean): void {
    this.states.delete(key);
    if (!isOverflowKey(key)) {
      if (waitsLater) this.unborn.add(key);
      else this.budget.release(series.tenant, this.cost[series.group]!);
    }
    const touched = series.touched & this.cumulativeMask[series.group]!;
    if (touched !== 0) {
      this.retired.retire(key, { group: series.group, tenant: series.tenant, labelValues: series.labelValues, cumulative: series.cumulative, touched, starts: series.starts });
    }
  }

  seriesFor(partial: PartialAggregate): SeriesState {
    let series = this.states.get(partial.key);
    if (!series) {
      const group = this.groups[partial.group]!;
      const base = baseLabels(group, partial.labelValues, partial.key);
      // A series that expired resumes from its totals: its counters never go backwards unseen.
      const retired = this.retired.take(partial.tenant, partial.key);
      series = {
        group: partial.group,
        tenant: partial.tenant,
        labelValues: partial.labelValues,
        outputs: group.aggregators.map((a) => a.targets(base)),
        cumulative: retired ? [...retired.cumulative] : group.aggregators.map((a) => (a.cumulative ? a.create() : undefined)),
        starts: retired ? [...retired.starts] : [],
        lastDataEnd: Number.NEGATIVE_INFINITY,
        touched: retired?.touched ?? 0,
        states: this.createStates(partial.group),
      };
      this.states.set(partial.key, series);
      this.unborn.delete(partial.key);
    }
    return series;
  }

  /** The per-window kinds of one series for the window [start, end); returns the stateful bits that emitted. */
  emitWindowed(series: SeriesState, key: string, accs: readonly unknown[], touched: number, start: number, end: number, emitCumulative?: (m: number) => void): number {
    const ctx = this.windowContext;
    ctx.tenant = series.tenant;
    ctx.seriesKey = key;
    ctx.windowStartMs = start;
    ctx.windowEndMs = end;
    ctx.windowSeconds = (end - start) / 1000;
    return emitSeriesWindow(this.groups[series.group]!.aggregators, accs, touched, series, ctx, this.out(series.tenant), emitCumulative);
  }

  /** The series ended: a point without a value (a stale marker) for each of its touched metrics. */
  emitStale(series: SeriesState, timestampMs: number): void {
    const out = this.out(series.tenant);
    series.outputs.forEach((targets, m) => {
      if (series.touched & (1 << m)) for (const { metric, labels } of targets) out.push({ metric, labels, timestampMs, value: undefined });
    });
  }

  mergeAccs(into: PartialAggregate, from: PartialAggregate, windowedOnly = false): void {
    into.touched |= from.touched;
    const aggregators = this.groups[into.group]!.aggregators;
    for (let m = 0; m < aggregators.length; m++) {
      if (windowedOnly && aggregators[m]!.cumulative) continue;
      aggregators[m]!.merge(into.accs[m], from.accs[m]);
    }
  }

  /** Where a tenant's points of the current watermark step go. */
  out(tenant: string): MetricPoint[] {
    let points = this.pending.get(tenant);
    if (!points) this.pending.set(tenant, (points = []));
    return points;
  }

  /** Hands the step's points over, per tenant. */
  flushPending(emit: (tenant: string, points: MetricPoint[]) => void): void {
    if (this.pending.size === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    for (const [tenant, points] of pending) if (points.length > 0) emit(tenant, points);
  }

  snapshot(): Pick<MergerSnapshot, 'series' | 'retired'> {
    return {
      series: [...this.states.entries()].map(([key, s]): SeriesWire => [s.group, key, s.tenant, s.labelValues.map((v) => v ?? null), s.lastDataEnd, this.encodeCumulative(s), s.touched, this.encodeStates(s), encodeStarts(s.starts)]),
      retired: [...this.retired.entries()].map(([key, r]) => [r.group, key, r.tenant, r.labelValues.map((v) => v ?? null), this.encodeCumulative(r), r.touched, encodeStarts(r.starts)]),
    };
  }

  /** Rebuilds the series and retired totals; `waiting` are the partials the windows hold. */
  restore(snapshot: MergerSnapshot, waiting: Iterable<PartialAggregate>): void {
    this.states.clear();
    this.unborn.clear();
    this.budget.clear();
    this.retired.clear();
    for (const [group, key, tenant, values, lastDataEnd, cumulative, touched, states, starts] of snapshot.series) {
      const plan = this.groups[group]!;
      const labelValues = values.map((v) => v ?? undefined);
      const base = baseLabels(plan, labelValues, key);
      this.states.set(key, {
        group,
        tenant,
        labelValues,
        outputs: plan.aggregators.map((a) => a.targets(base)),
        cumulative: this.decodeCumulative(group, cumulative),
        starts: decodeStarts(starts),
        lastDataEnd,
        touched,
        states: this.decodeStates(group, states),
      });
    }
    // Checkpoints written before totals were retained have none.
    for (const [group, key, tenant, values, cumulative, touched, starts] of snapshot.retired ?? []) {
      const labelValues = values.map((v) => v ?? undefined);
      this.retired.retire(key, { group, tenant, labelValues, cumulative: this.decodeCumulative(group, cumulative), touched, starts: decodeStarts(starts) });
    }
    this.recountBudget(waiting);
  }

  /** The budget's counts follow from the state: every non-overflow series, born or waiting. */
  private recountBudget(waiting: Iterable<PartialAggregate>): void {
    for (const [key, series] of this.states) if (!isOverflowKey(key)) this.budget.take(series.tenant, this.cost[series.group]!);
    for (const partial of waiting) {
      if (this.isKnown(partial.key)) continue;
      this.unborn.add(partial.key);
      this.budget.take(partial.tenant, this.cost[partial.group]!);
    }
  }

  private createStates(group: number): unknown[] | undefined {
    if (!this.hasStateful[group]) return undefined;
    return this.groups[group]!.aggregators.map((a) => (isSeriesStateful(a) ? a.createSeriesState() : undefined));
  }

  private encodeStates(series: SeriesState): unknown[] | null {
    if (!series.states) return null;
    const aggregators = this.groups[series.group]!.aggregators;
    return series.states.map((state, m) => {
      const aggregator = aggregators[m]!;
      return isSeriesStateful(aggregator) ? aggregator.encodeSeriesState(state) : null;
    });
  }

  private decodeStates(group: number, wire: readonly unknown[] | null | undefined): unknown[] | undefined {
    if (!this.hasStateful[group]) return undefined;
    const aggregators = this.groups[group]!.aggregators;
    // A checkpoint from before the group had stateful kinds starts their state afresh.
    return aggregators.map((a, m) => (isSeriesStateful(a) ? (wire?.[m] != null ? a.decodeSeriesState(wire[m]) : a.createSeriesState()) : undefined));
  }

  private encodeCumulative(series: { readonly group: number; readonly cumulative: readonly unknown[] }): unknown[] {
    const aggregators = this.groups[series.group]!.aggregators;
    return series.cumulative.map((acc, m) => (acc === undefined ? null : aggregators[m]!.encode(acc)));
  }

  private decodeCumulative(group: number, wire: readonly unknown[]): unknown[] {
    const aggregators = this.groups[group]!.aggregators;
    return wire.map((w, m) => (w === null ? undefined : aggregators[m]!.decode(w)));
  }
}
