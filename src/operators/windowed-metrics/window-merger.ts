import type { MetricPoint } from '../../core/metric-model.ts';
import { seriesPerPoint } from '../../core/series-count.ts';
import type { PointTarget } from '../aggregations/aggregator.ts';
import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan, Windowing } from './plan.ts';
import { RetiredTotals, type RetiredSeries } from './retired-totals.ts';
import { SeriesBudget, UNLIMITED } from './series-budget.ts';
import { baseLabels, isOverflowKey, overflowSeries } from './series-key.ts';
import { emitSeriesWindow, isSeriesStateful, type ScoreEvent, type WindowContext } from '../aggregations/series-state.ts';

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

interface SeriesState {
  readonly key: string;
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
  /** Birth order (the series map's order, which restore keeps) and name in incremental checkpoints. */
  readonly seq: number;
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
 * resumes from them when it returns.
 *
 * Everything it does is a function of the partials and watermarks it is given, in order (the
 * budget's decisions included: they depend only on the series held, which the snapshot holds),
 * so a replay from a checkpoint reproduces every sample bit for bit.
 */
export class WindowMerger {
  private panes = new Map<number, Map<string, PartialAggregate>>();
  private sessions = new Map<string, PartialAggregate[]>();
  private readonly series = new Map<string, SeriesState>();
  private nextEnd: number | undefined;
  private firedThrough = Number.NEGATIVE_INFINITY;
  private watermark = Number.NEGATIVE_INFINITY;
  private pending = new Map<string, MetricPoint[]>();
  /** Per group: does it have per-window aggregators at all (decided once, not per series and window)? */
  private readonly hasWindowed: readonly boolean[];
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
  /** Per group: may a cumulative emit change an accumulator (a counter rate's spans)? */
  private readonly emitChanges: readonly boolean[];
  /** The next sequence number of a series or retained total (checkpointed: they stay unique). */
  private nextSeq = 0;
  /** What changed since the last `changes()`: series and retained totals, and entries gone. */
  private readonly changedSeries = new Set<SeriesState>();
  private readonly changedRetired = new Map<RetiredSeries, string>();
  private removed: string[] = [];

  constructor(
    private readonly groups: readonly SeriesGroupPlan[],
    private readonly windowing: Windowing,
    private readonly options: MergerOptions,
    private readonly emitter: PointEmitter,
  ) {
    this.hasWindowed = groups.map((group) => group.aggregators.some((a) => !a.cumulative));
    this.hasStateful = groups.map((group) => group.aggregators.some(isSeriesStateful));
    this.emitChanges = groups.map((group) => group.aggregators.some((a) => a.cumulative && a.emitKeepsAcc !== true));
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
    this.retired = new RetiredTotals(limitOf, (g) => this.cumulativeCost[g]!, (dropped) => {
      this.forgetRetired(dropped);
      onDrop(dropped.tenant);
    });
  }

  get currentWatermark(): number {
    return this.watermark;
  }

  get seriesCount(): number {
    return this.series.size;
  }

  /** Expired series whose totals are kept for their return. */
  get retainedCount(): number {
    return this.retired.size;
  }

  /** Merges one partial; 'late' if its window has already fired (an upstream bug, counted by the caller). */
  addPartial(incoming: PartialAggregate): 'ok' | 'late' {
    if (this.windowing.kind === 'session') {
      const known = this.isKnown(incoming.key);
      const partial = this.admit(incoming);
      const result = this.addSessionFragment(partial, this.windowing.gapMs);
      // A late fragment of a series it just admitted leaves nothing behind: give the budget back.
      if (result === 'late' && !known && partial === incoming) this.unadmit(incoming);
      return result;
    }
    if (incoming.end <= this.firedThrough) return 'late';
    const partial = this.admit(incoming);
    let pane = this.panes.get(partial.start);
    if (!pane) this.panes.set(partial.start, (pane = new Map()));
    const existing = pane.get(partial.key);
    if (existing) this.mergeAccs(existing, partial);
    else pane.set(partial.key, partial);
    if (this.nextEnd === undefined || partial.end < this.nextEnd) this.nextEnd = partial.end;
    return 'ok';
  }

  /** Moves the watermark forward (never back), firing every window it closes, in order. */
  advanceWatermark(watermark: number): void {
    if (!(watermark > this.watermark)) return;
    this.watermark = watermark;
    if (this.windowing.kind === 'session') this.fireSessions(this.windowing.gapMs);
    else this.firePanes(this.windowing.sizeMs, this.windowing.slideMs);
    this.flushPending();
  }

  private firePanes(size: number, slide: number): void {
    const lateness = this.options.allowedLatenessMs;
    while (this.nextEnd !== undefined && this.nextEnd + lateness <= this.watermark) {
      const end = this.nextEnd;
      this.fireWindow(end, size, slide);
      this.firedThrough = end;
      let next: number | undefined = end + slide;
      if (this.series.size === 0) {
        // Nothing to repeat: jump over the gap to the next pane that holds data, if any.
        next = undefined;
        for (const start of this.panes.keys()) if (next === undefined || start + slide < next) next = start + slide;
      }
      this.nextEnd = next;
    }
  }

  private isKnown(key: string): boolean {
    return this.series.has(key) || this.unborn.has(key) || isOverflowKey(key);
  }

  /**
   * The partial as this merger keeps it: as it came for a known series or a new one within its
   * tenant's budget, else re-keyed onto the tenant's overflow series (its values merge there).
   */
  private admit(partial: PartialAggregate): PartialAggregate {
    if (this.isKnown(partial.key)) return partial;
    if (this.budget.tryTake(partial.tenant, this.cost[partial.group]!)) {
      this.unborn.add(partial.key);
      return partial;
    }
    this.options.onFolded?.(partial.tenant);
    const overflow = overflowSeries(this.groups[partial.group]!, partial.group, partial.tenant, partial.labelValues, this.overflowPartition);
    return { ...partial, key: overflow.key, labelValues: overflow.labelValues };
  }

  private unadmit(partial: PartialAggregate): void {
    this.unborn.delete(partial.key);
    this.budget.release(partial.tenant, this.cost[partial.group]!);
  }

  /**
   * Drops an expired series' state, keeping its cumulative totals for its return. A series
   * with data already waiting in a later pane keeps its place in the budget (as a series not
   * born yet), exactly as a restore from a snapshot taken now would count it.
   */
  private expire(key: string, series: SeriesState, end: number): void {
    this.series.delete(key);
    this.changedSeries.delete(series);
    this.removed.push(seriesField(series.seq));
    if (!isOverflowKey(key)) {
      if (this.waitsInLaterPane(key, end)) this.unborn.add(key);
      else this.budget.release(series.tenant, this.cost[series.group]!);
    }
    const touched = series.touched & this.cumulativeMask[series.group]!;
    if (touched !== 0) {
      const retired = { group: series.group, tenant: series.tenant, labelValues: series.labelValues, cumulative: series.cumulative, touched, starts: series.starts, seq: this.nextSeq++ };
      this.changedRetired.set(retired, key);
      this.retired.retire(key, retired);
    }
  }

  private waitsInLaterPane(key: string, end: number): boolean {
    for (const [start, pane] of this.panes) if (start >= end && pane.has(key)) return true;
    return false;
  }

  private fireWindow(end: number, size: number, slide: number): void {
    // Cumulative series take in the pane that ends here: each record is counted exactly once.
    const closing = this.panes.get(end - slide);
    if (closing) {
      for (const partial of closing.values()) {
        const series = this.seriesFor(partial);
        series.lastDataEnd = end;
        series.touched |= partial.touched;
        const aggregators = this.groups[partial.group]!.aggregators;
        for (let m = 0; m < aggregators.length; m++) {
          if (aggregators[m]!.cumulative) aggregators[m]!.merge(series.cumulative[m], partial.accs[m]);
        }
      }
    }
    this.emitWindowGauges(end, size, slide);
    for (const [key, series] of this.series) {
      if (series.lastDataEnd <= end - this.options.expireAfterMs) {
        this.emitStale(series, end);
        this.expire(key, series, end);
        continue;
      }
      const aggregators = this.groups[series.group]!.aggregators;
      const out = this.out(series.tenant);
      if (this.emitChanges[series.group]) this.changedSeries.add(series);
      for (let m = 0; m < aggregators.length; m++) {
        if (aggregators[m]!.cumulative && series.touched & (1 << m)) {
          if (series.starts[m] === undefined) {
            series.starts[m] = end - slide;
            this.changedSeries.add(series);
          }
          aggregators[m]!.emit(series.cumulative[m], series.outputs[m]!, end, size / 1000, series.starts[m]!, out);
        }
      }
    }
    // Panes that no later window covers are done.
    for (const start of this.panes.keys()) if (start < end + slide - size) this.panes.delete(start);
  }

  /** Per-window aggregators: one value per series with data in [end - size, end). */
  private emitWindowGauges(end: number, size: number, slide: number): void {
    const merged = new Map<string, PartialAggregate>();
    for (let start = end - size; start < end; start += slide) {
      const pane = this.panes.get(start);
      if (!pane) continue;
      for (const [key, partial] of pane) {
        if (!this.hasWindowed[partial.group]) continue;
        const group = this.groups[partial.group]!;
        const into = merged.get(key);
        if (!into) {
          // Panes stay intact for the next hopping window: merge into a fresh copy.
          const copy = { ...partial, accs: group.aggregators.map((a) => (a.cumulative ? undefined : a.create())), touched: 0 };
          this.mergeAccs(copy, partial, true);
          merged.set(key, copy);
        } else {
          this.mergeAccs(into, partial, true);
        }
      }
    }
    for (const partial of merged.values()) {
      const series = this.seriesFor(partial);
      series.touched |= this.emitWindowed(series, partial.key, partial.accs, partial.touched, end - size, end);
    }
  }

  private addSessionFragment(partial: PartialAggregate, gap: number): 'ok' | 'late' {
    let sessions = this.sessions.get(partial.key);
    if (!sessions) this.sessions.set(partial.key, (sessions = []));
    let target: PartialAggregate | undefined;
    for (let i = 0; i < sessions.length; i++) {
      const session = sessions[i]!;
      if (partial.end < session.start - gap || partial.start > session.end + gap) continue;
      if (!target) {
        target = session;
        this.mergeAccs(target, partial);
        target.start = Math.min(target.start, partial.start);
        target.end = Math.max(target.end, partial.end);
      } else {
        this.mergeAccs(target, session);
        target.start = Math.min(target.start, session.start);
        target.end = Math.max(target.end, session.end);
        sessions.splice(i--, 1);
      }
    }
    if (!target) {
      if (partial.end + gap + this.options.allowedLatenessMs <= this.watermark) return 'late';
      sessions.push(partial);
    }
    return 'ok';
  }

  private fireSessions(gap: number): void {
    const closing: { key: string; session: PartialAggregate }[] = [];
    for (const [key, sessions] of this.sessions) {
      for (let i = 0; i < sessions.length; i++) {
        const session = sessions[i]!;
        if (session.end + gap + this.options.allowedLatenessMs <= this.watermark) {
          closing.push({ key, session });
          sessions.splice(i--, 1);
        }
      }
      if (sessions.length === 0) this.sessions.delete(key);
    }
    closing.sort((a, b) => a.session.end - b.session.end || (a.key < b.key ? -1 : 1));
    for (const { session } of closing) {
      const end = session.end + gap;
      const series = this.seriesFor(session);
      series.lastDataEnd = end;
      series.touched |= session.touched;
      const aggregators = this.groups[session.group]!.aggregators;
      const out = this.out(session.tenant);
      const seconds = (end - session.start) / 1000;
      const emitCumulative = (m: number): void => {
        const aggregator = aggregators[m]!;
        if (!(session.touched & (1 << m)) && !(series.touched & (1 << m))) return;
        aggregator.merge(series.cumulative[m], session.accs[m]);
        aggregator.emit(series.cumulative[m], series.outputs[m]!, end, seconds, (series.starts[m] ??= session.start), out);
      };
      series.touched |= this.emitWindowed(series, session.key, session.accs, session.touched, session.start, end, emitCumulative);
    }
    for (const [key, series] of this.series) {
      const expiry = series.lastDataEnd + this.options.expireAfterMs;
      if (expiry <= this.watermark && !this.sessions.has(key)) {
        this.emitStale(series, expiry);
        this.expire(key, series, Number.POSITIVE_INFINITY); // sessions: none waits (checked above)
      }
    }
  }

  /** The per-window kinds of one series for the window [start, end); returns the stateful bits that emitted. */
  private emitWindowed(series: SeriesState, key: string, accs: readonly unknown[], touched: number, start: number, end: number, emitCumulative?: (m: number) => void): number {
    const ctx = this.windowContext;
    ctx.tenant = series.tenant;
    ctx.seriesKey = key;
    ctx.windowStartMs = start;
    ctx.windowEndMs = end;
    ctx.windowSeconds = (end - start) / 1000;
    return emitSeriesWindow(this.groups[series.group]!.aggregators, accs, touched, series, ctx, this.out(series.tenant), emitCumulative);
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

  /** The series a partial's data goes to (born now if new); it counts as changed for the next checkpoint. */
  private seriesFor(partial: PartialAggregate): SeriesState {
    let series = this.series.get(partial.key);
    if (!series) {
      const group = this.groups[partial.group]!;
      const base = baseLabels(group, partial.labelValues, partial.key);
      // A series that expired resumes from its totals: its counters never go backwards unseen.
      const retired = this.retired.take(partial.tenant, partial.key);
      if (retired) this.forgetRetired(retired);
      series = {
        key: partial.key,
        group: partial.group,
        tenant: partial.tenant,
        labelValues: partial.labelValues,
        outputs: group.aggregators.map((a) => a.targets(base)),
        cumulative: retired ? [...retired.cumulative] : group.aggregators.map((a) => (a.cumulative ? a.create() : undefined)),
        starts: retired ? [...retired.starts] : [],
        lastDataEnd: Number.NEGATIVE_INFINITY,
        touched: retired?.touched ?? 0,
        states: this.createStates(partial.group),
        seq: this.nextSeq++,
      };
      this.series.set(partial.key, series);
      this.unborn.delete(partial.key);
    }
    this.changedSeries.add(series);
    return series;
  }

  /** A retained total left (its series returned, or it was dropped): its entry goes. */
  private forgetRetired(retired: RetiredSeries): void {
    this.changedRetired.delete(retired);
    this.removed.push(retiredField(retired.seq));
  }

  /** The series ended: a point without a value (a stale marker) for each of its touched metrics. */
  private emitStale(series: SeriesState, timestampMs: number): void {
    const out = this.out(series.tenant);
    series.outputs.forEach((targets, m) => {
      if (series.touched & (1 << m)) for (const { metric, labels } of targets) out.push({ metric, labels, timestampMs, value: undefined });
    });
  }

  private mergeAccs(into: PartialAggregate, from: PartialAggregate, windowedOnly = false): void {
    into.touched |= from.touched;
    const aggregators = this.groups[into.group]!.aggregators;
    for (let m = 0; m < aggregators.length; m++) {
      if (windowedOnly && aggregators[m]!.cumulative) continue;
      aggregators[m]!.merge(into.accs[m], from.accs[m]);
    }
  }

  private out(tenant: string): MetricPoint[] {
    let points = this.pending.get(tenant);
    if (!points) this.pending.set(tenant, (points = []));
    return points;
  }

  private flushPending(): void {
    if (this.pending.size === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    for (const [tenant, points] of pending) if (points.length > 0) this.emitter.emit(tenant, points);
  }

  /** Plain data (msgpack-friendly) from which `restore` rebuilds this merger exactly. */
  snapshot(): MergerSnapshot {
    return {
      ...this.headWire(),
      series: [...this.series.values()].map((s) => this.seriesWire(s)),
      retired: [...this.retired.entries()].map(([key, r]) => this.retiredWire(key, r)),
    };
  }

  /**
   * The part of an incremental checkpoint written every time: watermarks and the open panes and
   * sessions (they change with every partial, and are gone once their window fired).
   */
  head(): MergerHead {
    const { panes, sessions, watermark, firedThrough, nextEnd } = this.headWire();
    return { watermark, firedThrough, nextEnd, panes, sessions, nextSeq: this.nextSeq };
  }

  /**
   * The entries (series and retained totals, by name) that changed since the last call, or all of
   * them if `all`, and the names of the entries gone; from now on, changes count afresh.
   * With `head()`, what `restoreIncremental` rebuilds this merger from exactly.
   */
  changes(all: boolean): { put: [string, unknown][]; remove: string[] } {
    const put: [string, unknown][] = [];
    if (all) {
      for (const series of this.series.values()) put.push([seriesField(series.seq), this.seriesWire(series)]);
      for (const [key, retired] of this.retired.entries()) put.push([retiredField(retired.seq), this.retiredWire(key, retired)]);
    } else {
      for (const series of this.changedSeries) put.push([seriesField(series.seq), this.seriesWire(series)]);
      for (const [retired, key] of this.changedRetired) put.push([retiredField(retired.seq), this.retiredWire(key, retired)]);
    }
    const remove = all ? [] : this.removed;
    this.changedSeries.clear();
    this.changedRetired.clear();
    this.removed = [];
    return { put, remove };
  }

  private headWire(): Omit<MergerSnapshot, 'series' | 'retired'> {
    const encodePartial = (p: PartialAggregate): PartialWire => {
      const aggregators = this.groups[p.group]!.aggregators;
      return [p.group, p.key, p.tenant, p.labelValues.map((v) => v ?? null), p.start, p.end, p.accs.map((acc, m) => (acc === undefined ? null : aggregators[m]!.encode(acc))), p.touched];
    };
    return {
      watermark: this.watermark,
      firedThrough: this.firedThrough,
      nextEnd: this.nextEnd ?? null,
      panes: [...this.panes.values()].flatMap((pane) => [...pane.values()].map(encodePartial)),
      sessions: [...this.sessions.values()].flatMap((sessions) => sessions.map(encodePartial)),
    };
  }

  private seriesWire(s: SeriesState): SeriesWire {
    return [s.group, s.key, s.tenant, s.labelValues.map((v) => v ?? null), s.lastDataEnd, this.encodeCumulative(s), s.touched, this.encodeStates(s), encodeStarts(s.starts)];
  }

  private retiredWire(key: string, r: RetiredSeries): RetiredWire {
    return [r.group, key, r.tenant, r.labelValues.map((v) => v ?? null), this.encodeCumulative(r), r.touched, encodeStarts(r.starts)];
  }

  private encodeCumulative(series: { readonly group: number; readonly cumulative: readonly unknown[] }): unknown[] {
    const aggregators = this.groups[series.group]!.aggregators;
    return series.cumulative.map((acc, m) => (acc === undefined ? null : aggregators[m]!.encode(acc)));
  }

  private decodeCumulative(group: number, wire: readonly unknown[]): unknown[] {
    const aggregators = this.groups[group]!.aggregators;
    // Metrics a reload appended to the group after this checkpoint start from zero, as for a new series.
    return aggregators.map((a, m) => (m >= wire.length ? (a.cumulative ? a.create() : undefined) : wire[m] === null ? undefined : a.decode(wire[m])));
  }

  /** Rebuilds this merger from a full snapshot (the previous checkpoint format, tests). */
  restore(snapshot: MergerSnapshot): void {
    this.restoreHead({ ...snapshot, nextSeq: 0 });
    for (const wire of snapshot.series) this.restoreSeries(wire, this.nextSeq++);
    // Checkpoints written before totals were retained have none.
    for (const wire of snapshot.retired ?? []) this.restoreRetired(wire, this.nextSeq++);
    this.recountBudget();
  }

  /** Rebuilds this merger from an incremental checkpoint: its head and every entry `changes` wrote. */
  restoreIncremental(head: MergerHead, entries: Iterable<readonly [string, unknown]>): void {
    this.restoreHead(head);
    // In sequence order: the series map's order and each tenant's retained totals' order are the
    // order of their birth, and the samples, expiries and drops that follow depend on it.
    const sorted = [...entries].map(([field, wire]) => ({ kind: field[0], seq: parseInt(field.slice(1), 36), wire })).sort((a, b) => a.seq - b.seq);
    for (const { kind, seq, wire } of sorted) {
      if (kind === SERIES) this.restoreSeries(wire as SeriesWire, seq);
      else if (kind === RETIRED) this.restoreRetired(wire as RetiredWire, seq);
      else throw new Error(`checkpoint entry of unknown kind ${JSON.stringify(kind)}`);
    }
    this.recountBudget();
  }

  private restoreHead(head: MergerHead): void {
    this.watermark = head.watermark;
    this.firedThrough = head.firedThrough;
    this.nextEnd = head.nextEnd ?? undefined;
    this.nextSeq = head.nextSeq;
    this.panes.clear();
    this.sessions.clear();
    this.series.clear();
    this.unborn.clear();
    this.budget.clear();
    this.retired.clear();
    this.changedSeries.clear();
    this.changedRetired.clear();
    this.removed = [];
    const decodePartial = ([group, key, tenant, values, start, end, accs, touched]: PartialWire): PartialAggregate => {
      const aggregators = this.groups[group]!.aggregators;
      // Metrics a reload appended to the group after this checkpoint get an empty accumulator.
      const decoded = aggregators.map((a, m) => (m >= accs.length ? a.create() : accs[m] === null ? undefined : a.decode(accs[m])));
      return { group, key, tenant, labelValues: values.map((v) => v ?? undefined), start, end, accs: decoded, touched };
    };
    for (const wire of head.panes) {
      const partial = decodePartial(wire);
      let pane = this.panes.get(partial.start);
      if (!pane) this.panes.set(partial.start, (pane = new Map()));
      pane.set(partial.key, partial);
    }
    for (const wire of head.sessions) {
      const partial = decodePartial(wire);
      const list = this.sessions.get(partial.key) ?? [];
      list.push(partial);
      this.sessions.set(partial.key, list);
    }
  }

  private restoreSeries([group, key, tenant, values, lastDataEnd, cumulative, touched, states, starts]: SeriesWire, seq: number): void {
    const plan = this.groups[group]!;
    const labelValues = values.map((v) => v ?? undefined);
    const base = baseLabels(plan, labelValues, key);
    this.series.set(key, {
      key,
      group,
      tenant,
      labelValues,
      outputs: plan.aggregators.map((a) => a.targets(base)),
      cumulative: this.decodeCumulative(group, cumulative),
      starts: decodeStarts(starts),
      lastDataEnd,
      touched,
      states: this.decodeStates(group, states),
      seq,
    });
  }

  private restoreRetired([group, key, tenant, values, cumulative, touched, starts]: RetiredWire, seq: number): void {
    const labelValues = values.map((v) => v ?? undefined);
    this.retired.retire(key, { group, tenant, labelValues, cumulative: this.decodeCumulative(group, cumulative), touched, starts: decodeStarts(starts), seq });
  }

  /** The budget's counts follow from the state: every non-overflow series, born or waiting. */
  private recountBudget(): void {
    for (const [key, series] of this.series) if (!isOverflowKey(key)) this.budget.take(series.tenant, this.cost[series.group]!);
    const waiting = (partial: PartialAggregate) => {
      if (this.isKnown(partial.key)) return;
      this.unborn.add(partial.key);
      this.budget.take(partial.tenant, this.cost[partial.group]!);
    };
    for (const pane of this.panes.values()) for (const partial of pane.values()) waiting(partial);
    for (const sessions of this.sessions.values()) for (const partial of sessions) waiting(partial);
  }
}

type PartialWire = [number, string, string, (string | null)[], number, number, unknown[], number];
/** Entry names in incremental checkpoints: a kind letter and the sequence number in base 36. */
const SERIES = 's';
const RETIRED = 'r';
const seriesField = (seq: number): string => SERIES + seq.toString(36);
const retiredField = (seq: number): string => RETIRED + seq.toString(36);
/**
 * A series: group, key, tenant, label values, last data end, cumulative accumulators, touched, the
 * stateful kinds' state (null: none in its group; absent in checkpoints from before those kinds),
 * and its running totals' starts (absent in checkpoints from before metric points).
 */
type SeriesWire = [number, string, string, (string | null)[], number, unknown[], number, (unknown[] | null)?, StartsWire?];
/** Per aggregator, its running total's start (null: none yet). Absent in older checkpoints: set at the next emit. */
type StartsWire = (number | null)[];
/** A retained total: group, key, tenant, label values, cumulative accumulators, touched, starts. */
type RetiredWire = [number, string, string, (string | null)[], unknown[], number, StartsWire?];

function encodeStarts(starts: readonly (number | undefined)[]): StartsWire {
  return Array.from(starts, (s) => s ?? null);
}

function decodeStarts(wire: StartsWire | undefined): (number | undefined)[] {
  return wire === undefined ? [] : wire.map((s) => s ?? undefined);
}

export interface MergerSnapshot {
  watermark: number;
  firedThrough: number;
  nextEnd: number | null;
  panes: PartialWire[];
  sessions: PartialWire[];
  series: SeriesWire[];
  /** Totals of expired cumulative series, oldest first per tenant (absent in older checkpoints). */
  retired?: RetiredWire[];
}

/** The head of an incremental checkpoint: the snapshot without series and retained totals. */
export interface MergerHead {
  watermark: number;
  firedThrough: number;
  nextEnd: number | null;
  panes: PartialWire[];
  sessions: PartialWire[];
  /** The next sequence number of a series or retained total. */
  nextSeq: number;
}
