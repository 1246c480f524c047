import type { MetricPoint } from '../../core/metric-model.ts';
import type { PointTarget } from '../aggregations/aggregator.ts';
import { type ScoreEvent, type SeriesOutputs, type WindowContext } from '../aggregations/series-state.ts';
import type { SeriesGroupPlan } from './plan.ts';
import type { GroupLayout } from './series-layout.ts';
import type { SeriesColumns } from './series-columns.ts';
import type { SeriesTable } from './series-table.ts';

/**
 * What stage 2's series emit: running totals, per-window kinds, stale markers, buffered per tenant
 * until the merger flushes them. The window strategies (time-windows.ts, session-windows.ts) call
 * it through MergerSeries.emission when a window closes. A series is a handle into `table`.
 */
export class SeriesEmission {
  private pending = new Map<string, MetricPoint[]>();
  /** Per group: does emitting a running total change its accumulator (so the series' entry)? */
  private readonly emitChanges: readonly boolean[];
  /** One context object, refilled per series window (no allocation per emit). */
  private readonly windowContext: WindowContext;
  private readonly outputsView: SeriesView;

  constructor(
    private readonly groups: readonly SeriesGroupPlan[],
    private readonly layouts: readonly GroupLayout[],
    private readonly table: SeriesTable,
    onEvent: (event: ScoreEvent) => void,
  ) {
    this.outputsView = new SeriesView(this, table);
    this.emitChanges = groups.map((group) => group.aggregators.some((a) => a.cumulative && a.emitKeepsAcc !== true));
    this.windowContext = { tenant: '', seriesKey: '', windowStartMs: 0, windowEndMs: 0, windowSeconds: 0, seriesStartMs: 0, event: onEvent };
  }

  startOf(series: number, m: number): number | undefined {
    return this.table.columnsOf(series).start(this.table.slotOf(series), m);
  }

  setStart(series: number, m: number, start: number): void {
    this.table.columnsOf(series).setStart(this.table.slotOf(series), m, start);
  }

  /** Metric m's point targets for the series (a kind with one point on the base labels: a shared one, refilled). */
  targetsOf(series: number, m: number): readonly PointTarget[] {
    const table = this.table;
    const layout = this.layouts[table.group(series)]!;
    const base = layout.baseTarget[m];
    if (base === undefined) return table.columnsOf(series).outputs[table.slotOf(series)]![m]!;
    base.labels = table.labels(series);
    return layout.baseTargets[m]!;
  }

  /**
   * A time window's scrape of one series: each cumulative kind with data emits its running total
   * at `end`; a total emitted for the first time starts at `windowStart`.
   */
  emitTotals(series: number, end: number, windowSeconds: number, windowStart: number): void {
    const table = this.table;
    const g = table.group(series);
    const columns = table.columnsOf(series);
    const slot = table.slotOf(series);
    if (this.emitChanges[g]) table.setChanged(series, true);
    const emitting = columns.touched(slot) & this.layouts[g]!.cumulativeMask;
    if (emitting === 0) return;
    const metrics = this.groups[g]!.aggregators.length;
    const out = this.out(table.tenant(series));
    for (let m = 0; m < metrics; m++) {
      if (emitting & (1 << m)) {
        let start = columns.start(slot, m);
        if (start === undefined) {
          columns.setStart(slot, m, (start = windowStart));
          table.setChanged(series, true);
        }
        this.emitCumulative(series, m, end, windowSeconds, start, out);
      }
    }
  }

  /** Emits the series' running total of cumulative metric m. */
  emitCumulative(series: number, m: number, end: number, windowSeconds: number, start: number, out: MetricPoint[]): void {
    const table = this.table;
    const aggregator = this.groups[table.group(series)]!.aggregators[m]!;
    const columns = table.columnsOf(series);
    const slot = table.slotOf(series);
    if (!columns.inRow(m)) {
      aggregator.emit(columns.cumulative[slot]![m], this.targetsOf(series, m), end, windowSeconds, start, out);
      return;
    }
    const acc = columns.load(slot, m);
    aggregator.emit(acc, this.targetsOf(series, m), end, windowSeconds, start, out);
    // A kind whose emit changes its accumulator (a counter rate's spans) keeps the change.
    if (aggregator.emitKeepsAcc !== true) columns.store(slot, m, acc);
  }

  /** The per-window kinds of one series for the window [start, end); returns the stateful bits that emitted. */
  emitWindowed(series: number, key: string, accs: readonly unknown[], touched: number, start: number, end: number, emitCumulative?: (m: number) => void): number {
    const ctx = this.windowContext;
    const tenant = this.table.tenant(series);
    ctx.tenant = tenant;
    ctx.seriesKey = key;
    ctx.windowStartMs = start;
    ctx.windowEndMs = end;
    ctx.windowSeconds = (end - start) / 1000;
    return this.layouts[this.table.group(series)]!.window.emit(accs, touched, this.outputsView.of(series), ctx, this.out(tenant), emitCumulative);
  }

  /** The series ended: a point without a value (a stale marker) for each of its touched metrics. */
  emitStale(series: number, timestampMs: number): void {
    const out = this.out(this.table.tenant(series));
    const metrics = this.groups[this.table.group(series)]!.aggregators.length;
    const touched = this.table.touched(series);
    for (let m = 0; m < metrics; m++) {
      if (touched & (1 << m)) for (const { metric, labels } of this.targetsOf(series, m)) out.push({ metric, labels, timestampMs, value: undefined });
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
}

/** A series as the per-window kinds see it (SeriesWindowPlan.emit): one object, pointed at each series in turn. */
class SeriesView implements SeriesOutputs {
  private series = -1;
  /** The series' row, found once per series window (its starts are read and set there). */
  private columns: SeriesColumns | undefined;
  private slot = -1;
  states: readonly unknown[] | undefined;

  constructor(
    private readonly all: SeriesEmission,
    private readonly table: SeriesTable,
  ) {}

  of(series: number): this {
    const columns = this.table.columnsOf(series);
    this.series = series;
    this.columns = columns;
    this.slot = this.table.slotOf(series);
    this.states = columns.states[this.slot];
    return this;
  }

  targets(m: number): readonly PointTarget[] {
    return this.all.targetsOf(this.series, m);
  }

  start(m: number): number | undefined {
    return this.columns!.start(this.slot, m);
  }

  setStart(m: number, start: number): void {
    this.columns!.setStart(this.slot, m, start);
  }
}
