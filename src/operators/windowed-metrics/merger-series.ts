import { seriesPerPoint } from '../../core/series-count.ts';
import { isSeriesStateful, type SeriesStatefulAggregator } from '../aggregations/series-state.ts';
import {
  decodeRetired,
  decodeSeries,
  encodeRetired,
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
import { layoutOf, type GroupLayout } from './series-layout.ts';
import { NONE, SeriesTable } from './series-table.ts';
import type { MergerOptions } from './window-merger.ts';

/**
 * Stage 2's series, whatever the windows: their state (handles into columns, series-table.ts),
 * the tenant's series budget (admission, overflow, release), retired totals, and what changed
 * since the last incremental checkpoint; what a series emits goes through `emission`
 * (series-emission.ts). The window strategies (time-windows.ts, session-windows.ts) decide when a
 * window closes and call in here.
 */
export class MergerSeries {
  /** The live series, in birth order. */
  readonly table: SeriesTable;
  /** Per group: does it have per-window aggregators at all (decided once, not per series and window)? */
  readonly hasWindowed: readonly boolean[];
  /** Per group: the series one key stands for at the receiver, all metrics / cumulative ones. */
  private readonly cost: readonly number[];
  private readonly cumulativeCost: readonly number[];
  private readonly budget: SeriesBudget;
  /** Keys admitted to the budget whose partials wait in panes or sessions, with no state yet. */
  private readonly unborn = new Set<string>();
  private readonly retired: RetiredTotals;
  private readonly overflowPartition: string | undefined;
  /** The next sequence number of a series or retained total (checkpointed: they stay unique). */
  private nextSeq = 0;
  /** Per group, how its series' points are laid out and which kinds keep state per series. */
  private readonly layouts: readonly GroupLayout[];
  /** Running totals, per-window kinds and stale markers out, buffered per tenant. */
  readonly emission: SeriesEmission;
  /** What changed since the last `changes()`: retained totals and entries gone (series carry a flag). */
  private readonly changedRetired = new Map<RetiredSeries, string>();
  private removed: string[] = [];
  /** Where `changes` puts a stateful kind's parts: one callback for every series (no closure per series). */
  private readonly partsOut: { put: [string, unknown][]; seq: number; metric: number } = { put: [], seq: 0, metric: 0 };
  private readonly putPart = (part: number, wire: unknown): void => {
    const out = this.partsOut;
    out.put.push([partField(out.seq, out.metric, part), wire]);
  };

  constructor(
    readonly groups: readonly SeriesGroupPlan[],
    private readonly options: MergerOptions,
  ) {
    this.hasWindowed = groups.map((group) => group.aggregators.some((a) => !a.cumulative));
    this.layouts = groups.map((group) => layoutOf(group.aggregators));
    this.table = new SeriesTable(groups);
    this.emission = new SeriesEmission(groups, this.layouts, this.table, options.onEvent ?? (() => {}));
    const outputs = (group: SeriesGroupPlan, cumulativeOnly: boolean) =>
      group.aggregators.reduce((sum, a) => sum + (cumulativeOnly && !a.cumulative ? 0 : a.targets([]).reduce((n, t) => n + seriesPerPoint(t.metric), 0)), 0);
    this.cost = groups.map((group) => outputs(group, false));
    this.cumulativeCost = groups.map((group) => outputs(group, true));
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

  isKnown(partial: PartialAggregate): boolean {
    // Born series first: most partials are of series known for windows already.
    return this.table.find(partial) !== NONE || this.unborn.has(partial.key) || isOverflowKey(partial.key);
  }

  /**
   * The partial as this merger keeps it: as it came for a known series or a new one within its
   * tenant's budget, else re-keyed onto the tenant's overflow series (its values merge there).
   */
  admit(partial: PartialAggregate): PartialAggregate {
    if (this.isKnown(partial)) return partial;
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
   * Drops an expired series' state (`key`: its key, `table.key`), keeping its cumulative totals
   * for its return. A series with data already waiting in a later window (`waitsLater`) keeps its
   * place in the budget (as a series not born yet), exactly as a restore from a snapshot taken now
   * would count it.
   */
  expire(series: number, key: string, waitsLater: boolean): void {
    const table = this.table;
    const g = table.group(series);
    const seq = table.seq(series);
    const tenant = table.tenant(series);
    this.removed.push(seriesField(seq));
    const states = table.states(series);
    for (const m of this.layouts[g]!.inParts) {
      const parts = (this.groups[g]!.aggregators[m] as SeriesStatefulAggregator).stateParts!;
      for (let part = 0; part < parts.count(states![m]); part++) this.removed.push(partField(seq, m, part));
    }
    if (!table.isOverflow(series)) {
      if (waitsLater) this.unborn.add(key);
      else this.budget.release(tenant, this.cost[g]!);
    }
    const touched = table.touched(series) & this.layouts[g]!.cumulativeMask;
    if (touched !== 0) {
      const { labelValues, cumulative, starts } = this.table.facts(series, key);
      const retired = { group: g, tenant, labelValues, cumulative, touched, starts, seq: this.nextSeq++ };
      this.changedRetired.set(retired, key);
      this.retired.retire(key, retired);
    }
    table.remove(series);
  }

  /** The series a partial's data goes to (born now if new); it counts as changed for the next checkpoint. */
  seriesFor(partial: PartialAggregate): number {
    let series = this.table.find(partial);
    if (series === NONE) {
      // A series that expired resumes from its totals: its counters never go backwards unseen.
      const retired = this.retired.take(partial.tenant, partial.key);
      if (retired) this.forgetRetired(retired);
      const aggregators = this.groups[partial.group]!.aggregators;
      const columns = this.table.columns[partial.group]!;
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
      return series;
    }
    this.table.setChanged(series, true);
    return series;
  }

  /** A series from what its checkpoint entry says (flagged changed): its row filled, its labels and targets built once. */
  private born(facts: SeriesFacts, states: unknown[] | undefined, seq: number): number {
    const group = this.groups[facts.group]!;
    const layout = this.layouts[facts.group]!;
    // Exactly as long as its labels (a pushed-to array keeps room for 17).
    const labels = baseLabels(group, facts.labelValues, facts.key).slice();
    const series = this.table.add(facts.group, facts.key, facts.tenant, labels, isOverflowKey(facts.key), seq);
    const columns = this.table.columnsOf(series);
    const slot = this.table.slotOf(series);
    columns.setLastDataEnd(slot, facts.lastDataEnd);
    columns.setTouched(slot, facts.touched);
    let cumulative: unknown[] | undefined;
    for (let m = 0; m < group.aggregators.length; m++) {
      columns.setStart(slot, m, facts.starts[m]);
      const acc = facts.cumulative[m];
      if (acc === undefined) continue;
      if (columns.inRow(m)) columns.store(slot, m, acc as Float64Array);
      else (cumulative ??= new Array<unknown>(group.aggregators.length))[m] = acc;
    }
    if (cumulative !== undefined) columns.cumulative[slot] = cumulative;
    if (layout.ownTargets) columns.outputs[slot] = group.aggregators.map((a, m) => (layout.baseTarget[m] ? undefined : a.targets(labels)));
    if (states !== undefined) columns.states[slot] = states;
    return series;
  }

  /** End of the newest window that had data for this series. */
  lastDataEnd(series: number): number {
    return this.table.columnsOf(series).lastDataEnd(this.table.slotOf(series));
  }

  setLastDataEnd(series: number, end: number): void {
    this.table.columnsOf(series).setLastDataEnd(this.table.slotOf(series), end);
  }

  /** Merges `from` into the series' cumulative accumulator of metric m. */
  mergeCumulative(series: number, m: number, from: unknown): void {
    const aggregator = this.groups[this.table.group(series)]!.aggregators[m]!;
    const columns = this.table.columnsOf(series);
    const slot = this.table.slotOf(series);
    if (!columns.inRow(m)) {
      aggregator.merge(columns.cumulative[slot]![m], from);
      return;
    }
    const acc = columns.load(slot, m);
    aggregator.merge(acc, from);
    columns.store(slot, m, acc);
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
    const series: SeriesWire[] = [];
    for (let s = this.table.first; s !== NONE; s = this.table.next(s)) series.push(this.table.entry(s, this.table.states(s), false));
    return { series, retired: [...this.retired.entries()].map(([key, r]) => encodeRetired(this.groups, key, r)) };
  }

  /**
   * The entries (series and retained totals, by name) that changed since the last call, or all of
   * them if `all`, and the names of the entries gone; from now on, changes count afresh.
   */
  changes(all: boolean): { put: [string, unknown][]; remove: string[] } {
    const put: [string, unknown][] = [];
    const table = this.table;
    for (let s = table.first; s !== NONE; s = table.next(s)) if (all || table.isChanged(s)) this.putSeries(s, all, put);
    if (all) {
      for (const [key, retired] of this.retired.entries()) put.push([retiredField(retired.seq), encodeRetired(this.groups, key, retired)]);
    } else {
      for (const [retired, key] of this.changedRetired) put.push([retiredField(retired.seq), encodeRetired(this.groups, key, retired)]);
    }
    const remove = all ? [] : this.removed;
    this.changedRetired.clear();
    this.removed = [];
    return { put, remove };
  }

  /** A series' entry, and its stateful kinds' parts that changed (all of them if `all`). */
  private putSeries(series: number, all: boolean, put: [string, unknown][]): void {
    const table = this.table;
    const seq = table.seq(series);
    const states = table.states(series);
    table.setChanged(series, false);
    put.push([seriesField(seq), table.entry(series, states, true)]);
    const g = table.group(series);
    const out = this.partsOut;
    out.put = put;
    out.seq = seq;
    for (const m of this.layouts[g]!.inParts) {
      out.metric = m;
      (this.groups[g]!.aggregators[m] as SeriesStatefulAggregator).stateParts!.changed(states![m], all, this.putPart);
    }
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
    // In sequence order: the series' order and each tenant's retained totals' order are the
    // order of their birth, and the samples, expiries and drops that follow depend on it.
    const sorted: { kind: string | undefined; seq: number; wire: unknown }[] = [];
    const parts: (readonly [string, unknown])[] = [];
    for (const [field, wire] of entries) {
      if (field[0] === PART) parts.push([field, wire]);
      else sorted.push({ kind: field[0], seq: parseInt(field.slice(1), 36), wire });
    }
    sorted.sort((a, b) => a.seq - b.seq);
    const bySeq = new Map<number, number>();
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
    const table = this.table;
    for (let s = table.first; s !== NONE; s = table.next(s)) if (!table.isOverflow(s)) this.budget.take(table.tenant(s), this.cost[table.group(s)]!);
    for (const partial of waiting) {
      if (this.isKnown(partial)) continue;
      this.unborn.add(partial.key);
      this.budget.take(partial.tenant, this.cost[partial.group]!);
    }
  }

  private clear(nextSeq: number): void {
    this.nextSeq = nextSeq;
    this.table.clear();
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

  private restoreSeries(wire: SeriesWire, seq: number): number {
    const { facts, states } = decodeSeries(this.groups, wire);
    const series = this.born(facts, states, seq);
    // As restored, nothing has changed since the checkpoint.
    this.table.setChanged(series, false);
    return series;
  }

  private restorePart(bySeq: ReadonlyMap<number, number>, field: string, wire: unknown): void {
    const name = parsePartField(field);
    if (name === undefined) throw new Error(`checkpoint entry ${JSON.stringify(field)} is not a state part`);
    const series = bySeq.get(name.seq);
    const states = series === undefined ? undefined : this.table.states(series);
    const aggregator = series === undefined ? undefined : this.groups[this.table.group(series)]!.aggregators[name.metric];
    // A series removed with its parts leaves none behind; a metric a reload dropped has no state to fill.
    if (states === undefined || aggregator === undefined || !isSeriesStateful(aggregator) || aggregator.stateParts === undefined) return;
    aggregator.stateParts.restore(states[name.metric], name.part, wire);
  }

  private restoreRetired(wire: RetiredWire, seq: number): void {
    const { key, retired } = decodeRetired(this.groups, wire, seq);
    this.retired.retire(key, retired);
  }

  private createStates(group: number): unknown[] | undefined {
    if (this.layouts[group]!.stateful.length === 0) return undefined;
    return this.groups[group]!.aggregators.map((a) => (isSeriesStateful(a) ? a.createSeriesState() : undefined));
  }
}
