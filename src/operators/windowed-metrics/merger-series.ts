import { seriesPerPoint } from '../../core/series-count.ts';
import { isSeriesStateful, type SeriesStateParts } from '../aggregations/series-state.ts';
import {
  decodeRetired,
  decodeSeries,
  encodeRetired,
  encodeSeries,
  labelValuesOf,
  PART,
  partField,
  parsePartField,
  RETIRED,
  retiredField,
  SERIES,
  seriesField,
  type RetiredWire,
  type SeriesFacts,
  type SeriesWire,
} from './merger-snapshot.ts';
import type { PartialAggregate } from './partial.ts';
import type { SeriesGroupPlan } from './plan.ts';
import { RetiredTotals, type RetiredSeries } from './retired-totals.ts';
import { SeriesBudget, UNLIMITED } from './series-budget.ts';
import { SeriesEmission } from './series-emission.ts';
import { baseLabels, isOverflowKey, overflowSeries } from './series-key.ts';
import { layoutOf, type GroupLayout, type SeriesState } from './series-layout.ts';
import type { MergerOptions } from './window-merger.ts';

/**
 * Stage 2's series, whatever the windows: their state, the tenant's series budget (admission,
 * overflow, release), retired totals, its numbers in its group's columns, and what changed since
 * the last incremental checkpoint; what a series emits goes through `emission` (series-emission.ts). The window strategies (time-windows.ts, session-windows.ts) decide
 * when a window closes and call in here.
 */
export class MergerSeries {
  readonly states = new Map<string, SeriesState>();
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
  /** Per group: does it hold a kind with per-series state (drift, anomaly)? One checkpointed in parts? */
  private readonly hasStateful: readonly boolean[];
  private readonly hasParts: readonly boolean[];
  /** The next sequence number of a series or retained total (checkpointed: they stay unique). */
  private nextSeq = 0;
  /** Per group, how its series' points and numbers are laid out. */
  private readonly layouts: readonly GroupLayout[];
  /** Running totals, per-window kinds and stale markers out, buffered per tenant. */
  readonly emission: SeriesEmission;
  /** Tenant ids as one string each: every partials message decodes its own copy. */
  private readonly tenants = new Map<string, string>();
  /** What changed since the last `changes()`: retained totals and entries gone (series carry a flag). */
  private readonly changedRetired = new Map<RetiredSeries, string>();
  private removed: string[] = [];

  constructor(
    readonly groups: readonly SeriesGroupPlan[],
    private readonly options: MergerOptions,
  ) {
    this.hasWindowed = groups.map((group) => group.aggregators.some((a) => !a.cumulative));
    this.layouts = groups.map((group) => layoutOf(group.aggregators));
    this.hasStateful = groups.map((group) => group.aggregators.some(isSeriesStateful));
    this.hasParts = groups.map((group) => group.aggregators.some((a) => isSeriesStateful(a) && a.stateParts !== undefined));
    this.emission = new SeriesEmission(groups, this.layouts, options.onEvent ?? (() => {}));
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

  /** Expired series whose totals are kept for their return. */
  get retainedCount(): number {
    return this.retired.size;
  }

  /** The next sequence number, for an incremental checkpoint's head. */
  get sequence(): number {
    return this.nextSeq;
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
    this.removed.push(seriesField(series.seq));
    if (this.hasParts[series.group]) this.forEachParts(series, (m, parts, state) => {
      for (let part = 0; part < parts.count(state); part++) this.removed.push(partField(series.seq, m, part));
    });
    if (!isOverflowKey(key)) {
      if (waitsLater) this.unborn.add(key);
      else this.budget.release(series.tenant, this.cost[series.group]!);
    }
    const touched = series.touched & this.cumulativeMask[series.group]!;
    if (touched !== 0) {
      const { labelValues, cumulative, starts } = this.factsOf(series);
      const retired = { group: series.group, tenant: series.tenant, labelValues, cumulative, touched, starts, seq: this.nextSeq++ };
      this.changedRetired.set(retired, key);
      this.retired.retire(key, retired);
    }
    this.layouts[series.group]!.columns.release(series.slot);
  }

  /** The series a partial's data goes to (born now if new); it counts as changed for the next checkpoint. */
  seriesFor(partial: PartialAggregate): SeriesState {
    let series = this.states.get(partial.key);
    if (!series) {
      // A series that expired resumes from its totals: its counters never go backwards unseen.
      const retired = this.retired.take(partial.tenant, partial.key);
      if (retired) this.forgetRetired(retired);
      const aggregators = this.groups[partial.group]!.aggregators;
      const columns = this.layouts[partial.group]!.columns;
      const facts: SeriesFacts = {
        group: partial.group,
        key: partial.key,
        tenant: partial.tenant,
        labelValues: partial.labelValues,
        lastDataEnd: Number.NEGATIVE_INFINITY,
        // A new series' row holds its kinds' fresh accumulators already.
        cumulative: retired ? retired.cumulative : aggregators.map((a, m) => (a.cumulative && !columns.inRow(m) ? a.create() : undefined)),
        touched: retired?.touched ?? 0,
        starts: retired ? retired.starts : [],
      };
      series = this.born(facts, this.createStates(partial.group), this.nextSeq++);
      this.unborn.delete(partial.key);
    }
    series.changed = true;
    return series;
  }

  /** A series from what its checkpoint entry says: its row filled, its labels and targets built once. */
  private born(facts: SeriesFacts, states: unknown[] | undefined, seq: number): SeriesState {
    const group = this.groups[facts.group]!;
    const layout = this.layouts[facts.group]!;
    // Exactly as long as its labels (a pushed-to array keeps room for 17).
    const labels = baseLabels(group, facts.labelValues, facts.key).slice();
    const columns = layout.columns;
    const slot = columns.allocate();
    columns.setLastDataEnd(slot, facts.lastDataEnd);
    let cumulative: unknown[] | undefined;
    for (let m = 0; m < group.aggregators.length; m++) {
      columns.setStart(slot, m, facts.starts[m]);
      const acc = facts.cumulative[m];
      if (acc === undefined) continue;
      if (columns.inRow(m)) columns.store(slot, m, acc as Float64Array);
      else (cumulative ??= new Array<unknown>(group.aggregators.length))[m] = acc;
    }
    const series: SeriesState = {
      key: facts.key,
      group: facts.group,
      tenant: this.tenantOf(facts.tenant),
      labels,
      outputs: layout.ownTargets ? group.aggregators.map((a, m) => (layout.baseTarget[m] ? undefined : a.targets(labels))) : undefined,
      cumulative,
      slot,
      touched: facts.touched,
      states,
      seq,
      changed: true,
    };
    this.states.set(facts.key, series);
    return series;
  }

  private tenantOf(tenant: string): string {
    const known = this.tenants.get(tenant);
    if (known !== undefined) return known;
    this.tenants.set(tenant, tenant);
    return tenant;
  }

  /** What the series' checkpoint entry (or retained total) says: its numbers out of its row. */
  factsOf(series: SeriesState): SeriesFacts {
    const group = this.groups[series.group]!;
    const columns = this.layouts[series.group]!.columns;
    const cumulative = new Array<unknown>(group.aggregators.length);
    // Up to the last start set, as the checkpoint has always held them.
    const starts: (number | undefined)[] = [];
    for (let m = 0; m < group.aggregators.length; m++) {
      const start = columns.start(series.slot, m);
      if (start !== undefined) {
        while (starts.length < m) starts.push(undefined);
        starts.push(start);
      }
      if (columns.inRow(m)) cumulative[m] = Float64Array.from(columns.load(series.slot, m));
      else cumulative[m] = series.cumulative?.[m];
    }
    return {
      group: series.group,
      key: series.key,
      tenant: series.tenant,
      labelValues: labelValuesOf(group, series.labels, series.key),
      lastDataEnd: columns.lastDataEnd(series.slot),
      cumulative,
      touched: series.touched,
      starts,
    };
  }

  /** End of the newest window that had data for this series. */
  lastDataEnd(series: SeriesState): number {
    return this.layouts[series.group]!.columns.lastDataEnd(series.slot);
  }

  setLastDataEnd(series: SeriesState, end: number): void {
    this.layouts[series.group]!.columns.setLastDataEnd(series.slot, end);
  }

  /** Merges `from` into the series' cumulative accumulator of metric m. */
  mergeCumulative(series: SeriesState, m: number, from: unknown): void {
    const aggregator = this.groups[series.group]!.aggregators[m]!;
    const columns = this.layouts[series.group]!.columns;
    if (!columns.inRow(m)) {
      aggregator.merge(series.cumulative![m], from);
      return;
    }
    const acc = columns.load(series.slot, m);
    aggregator.merge(acc, from);
    columns.store(series.slot, m, acc);
  }

  /** Merges `from`'s accumulators into `into`'s (per-window ones only if `windowedOnly`). */
  mergeAccs(into: PartialAggregate, from: PartialAggregate, windowedOnly = false): void {
    into.touched |= from.touched;
    const aggregators = this.groups[into.group]!.aggregators;
    for (let m = 0; m < aggregators.length; m++) {
      if (windowedOnly && aggregators[m]!.cumulative) continue;
      aggregators[m]!.merge(into.accs[m], from.accs[m]);
    }
  }

  /** Every series and retained total, as a full snapshot holds them. */
  snapshot(): { series: SeriesWire[]; retired: RetiredWire[] } {
    return {
      series: [...this.states.values()].map((s) => encodeSeries(this.groups, this.factsOf(s), s.states)),
      retired: [...this.retired.entries()].map(([key, r]) => encodeRetired(this.groups, key, r)),
    };
  }

  /**
   * The entries (series and retained totals, by name) that changed since the last call, or all of
   * them if `all`, and the names of the entries gone; from now on, changes count afresh.
   */
  changes(all: boolean): { put: [string, unknown][]; remove: string[] } {
    const put: [string, unknown][] = [];
    const putSeries = (series: SeriesState) => {
      series.changed = false;
      put.push([seriesField(series.seq), encodeSeries(this.groups, this.factsOf(series), series.states, true)]);
      if (this.hasParts[series.group]) this.forEachParts(series, (m, parts, state) => parts.changed(state, all, (part, wire) => put.push([partField(series.seq, m, part), wire])));
    };
    if (all) {
      for (const series of this.states.values()) putSeries(series);
      for (const [key, retired] of this.retired.entries()) put.push([retiredField(retired.seq), encodeRetired(this.groups, key, retired)]);
    } else {
      for (const series of this.states.values()) if (series.changed) putSeries(series);
      for (const [retired, key] of this.changedRetired) put.push([retiredField(retired.seq), encodeRetired(this.groups, key, retired)]);
    }
    const remove = all ? [] : this.removed;
    this.changedRetired.clear();
    this.removed = [];
    return { put, remove };
  }

  /** Rebuilds the series from a full snapshot; then `recountBudget`. */
  restore(series: readonly SeriesWire[], retired: readonly RetiredWire[] | undefined): void {
    this.clear(0);
    for (const wire of series) this.restoreSeries(wire, this.nextSeq++);
    // Checkpoints written before totals were retained have none.
    for (const wire of retired ?? []) this.restoreRetired(wire, this.nextSeq++);
  }

  /** Rebuilds the series from an incremental checkpoint's entries; then `recountBudget`. */
  restoreIncremental(nextSeq: number, entries: Iterable<readonly [string, unknown]>): void {
    this.clear(nextSeq);
    // In sequence order: the series map's order and each tenant's retained totals' order are the
    // order of their birth, and the samples, expiries and drops that follow depend on it.
    const sorted: { kind: string | undefined; seq: number; wire: unknown }[] = [];
    const parts: (readonly [string, unknown])[] = [];
    for (const [field, wire] of entries) {
      if (field[0] === PART) parts.push([field, wire]);
      else sorted.push({ kind: field[0], seq: parseInt(field.slice(1), 36), wire });
    }
    sorted.sort((a, b) => a.seq - b.seq);
    const bySeq = new Map<number, SeriesState>();
    for (const { kind, seq, wire } of sorted) {
      if (kind === SERIES) bySeq.set(seq, this.restoreSeries(wire as SeriesWire, seq));
      else if (kind === RETIRED) this.restoreRetired(wire as RetiredWire, seq);
      else throw new Error(`checkpoint entry of unknown kind ${JSON.stringify(kind)}`);
    }
    // Parts go into their series' state once it is decoded.
    for (const [field, wire] of parts) this.restorePart(bySeq, field, wire);
  }

  /** The budget's counts follow from the state: every non-overflow series, born or waiting in a window. */
  recountBudget(waiting: Iterable<PartialAggregate>): void {
    for (const [key, series] of this.states) if (!isOverflowKey(key)) this.budget.take(series.tenant, this.cost[series.group]!);
    for (const partial of waiting) {
      if (this.isKnown(partial.key)) continue;
      this.unborn.add(partial.key);
      this.budget.take(partial.tenant, this.cost[partial.group]!);
    }
  }

  private clear(nextSeq: number): void {
    this.nextSeq = nextSeq;
    this.states.clear();
    for (const layout of this.layouts) layout.columns.clear();
    this.unborn.clear();
    this.budget.clear();
    this.retired.clear();
    this.changedRetired.clear();
    this.removed = [];
  }

  /** A retained total left (its series returned, or it was dropped): its entry goes. */
  private forgetRetired(retired: RetiredSeries): void {
    this.changedRetired.delete(retired);
    this.removed.push(retiredField(retired.seq));
  }

  private restoreSeries(wire: SeriesWire, seq: number): SeriesState {
    const { facts, states } = decodeSeries(this.groups, wire);
    const series = this.born(facts, states, seq);
    // As restored, nothing has changed since the checkpoint.
    series.changed = false;
    return series;
  }

  private restorePart(bySeq: ReadonlyMap<number, SeriesState>, field: string, wire: unknown): void {
    const name = parsePartField(field);
    if (name === undefined) throw new Error(`checkpoint entry ${JSON.stringify(field)} is not a state part`);
    const series = bySeq.get(name.seq);
    const aggregator = series && this.groups[series.group]!.aggregators[name.metric];
    // A series removed with its parts leaves none behind; a metric a reload dropped has no state to fill.
    if (series?.states === undefined || aggregator === undefined || !isSeriesStateful(aggregator) || aggregator.stateParts === undefined) return;
    aggregator.stateParts.restore(series.states[name.metric], name.part, wire);
  }

  /** Calls `visit` for each of the series' stateful kinds checkpointed in parts. */
  private forEachParts(series: SeriesState, visit: (m: number, parts: SeriesStateParts<unknown>, state: unknown) => void): void {
    const aggregators = this.groups[series.group]!.aggregators;
    for (let m = 0; m < aggregators.length; m++) {
      const aggregator = aggregators[m]!;
      if (isSeriesStateful(aggregator) && aggregator.stateParts !== undefined && series.states !== undefined) visit(m, aggregator.stateParts, series.states[m]);
    }
  }

  private restoreRetired(wire: RetiredWire, seq: number): void {
    const { key, retired } = decodeRetired(this.groups, wire, seq);
    this.retired.retire(key, retired);
  }

  private createStates(group: number): unknown[] | undefined {
    if (!this.hasStateful[group]) return undefined;
    return this.groups[group]!.aggregators.map((a) => (isSeriesStateful(a) ? a.createSeriesState() : undefined));
  }
}
