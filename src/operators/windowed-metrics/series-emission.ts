import type { MetricPoint } from '../../core/metric-model.ts';
import type { PointTarget } from '../aggregations/aggregator.ts';
import { emitSeriesWindow, type ScoreEvent, type SeriesOutputs, type WindowContext } from '../aggregations/series-state.ts';
import type { SeriesGroupPlan } from './plan.ts';
import type { GroupLayout, SeriesState } from './series-layout.ts';

/**
 * What stage 2's series emit: running totals, per-window kinds, stale markers, buffered per tenant
 * until the merger flushes them. The window strategies (time-windows.ts, session-windows.ts) call
 * it through MergerSeries.emission when a window closes.
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
    onEvent: (event: ScoreEvent) => void,
  ) {
    this.outputsView = new SeriesView(this);
    this.emitChanges = groups.map((group) => group.aggregators.some((a) => a.cumulative && a.emitKeepsAcc !== true));
    this.windowContext = { tenant: '', seriesKey: '', windowStartMs: 0, windowEndMs: 0, windowSeconds: 0, seriesStartMs: 0, event: onEvent };
  }

  startOf(series: SeriesState, m: number): number | undefined {
    return this.layouts[series.group]!.columns.start(series.slot, m);
  }

  setStart(series: SeriesState, m: number, start: number): void {
    this.layouts[series.group]!.columns.setStart(series.slot, m, start);
  }

  /** Metric m's point targets for the series (a kind with one point on the base labels: a shared one, refilled). */
  targetsOf(series: SeriesState, m: number): readonly PointTarget[] {
    const layout = this.layouts[series.group]!;
    const base = layout.baseTarget[m];
    if (base === undefined) return series.outputs![m]!;
    base.labels = series.labels;
    return layout.baseTargets[m]!;
  }

  /**
   * A time window's scrape of one series: each cumulative kind with data emits its running total
   * at `end`; a total emitted for the first time starts at `windowStart`.
   */
  emitTotals(series: SeriesState, end: number, windowSeconds: number, windowStart: number): void {
    const aggregators = this.groups[series.group]!.aggregators;
    const columns = this.layouts[series.group]!.columns;
    const out = this.out(series.tenant);
    if (this.emitChanges[series.group]) series.changed = true;
    for (let m = 0; m < aggregators.length; m++) {
      if (aggregators[m]!.cumulative && series.touched & (1 << m)) {
        let start = columns.start(series.slot, m);
        if (start === undefined) {
          columns.setStart(series.slot, m, (start = windowStart));
          series.changed = true;
        }
        this.emitCumulative(series, m, end, windowSeconds, start, out);
      }
    }
  }

  /** Emits the series' running total of cumulative metric m. */
  emitCumulative(series: SeriesState, m: number, end: number, windowSeconds: number, start: number, out: MetricPoint[]): void {
    const aggregator = this.groups[series.group]!.aggregators[m]!;
    const columns = this.layouts[series.group]!.columns;
    if (!columns.inRow(m)) {
      aggregator.emit(series.cumulative![m], this.targetsOf(series, m), end, windowSeconds, start, out);
      return;
    }
    const acc = columns.load(series.slot, m);
    aggregator.emit(acc, this.targetsOf(series, m), end, windowSeconds, start, out);
    // A kind whose emit changes its accumulator (a counter rate's spans) keeps the change.
    if (aggregator.emitKeepsAcc !== true) columns.store(series.slot, m, acc);
  }

  /** The per-window kinds of one series for the window [start, end); returns the stateful bits that emitted. */
  emitWindowed(series: SeriesState, key: string, accs: readonly unknown[], touched: number, start: number, end: number, emitCumulative?: (m: number) => void): number {
    const ctx = this.windowContext;
    ctx.tenant = series.tenant;
    ctx.seriesKey = key;
    ctx.windowStartMs = start;
    ctx.windowEndMs = end;
    ctx.windowSeconds = (end - start) / 1000;
    return emitSeriesWindow(this.groups[series.group]!.aggregators, accs, touched, this.outputsView.of(series), ctx, this.out(series.tenant), emitCumulative);
  }

  /** The series ended: a point without a value (a stale marker) for each of its touched metrics. */
  emitStale(series: SeriesState, timestampMs: number): void {
    const out = this.out(series.tenant);
    const metrics = this.groups[series.group]!.aggregators.length;
    for (let m = 0; m < metrics; m++) {
      if (series.touched & (1 << m)) for (const { metric, labels } of this.targetsOf(series, m)) out.push({ metric, labels, timestampMs, value: undefined });
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

/** A series as the per-window kinds see it (emitSeriesWindow): one object, pointed at each series in turn. */
class SeriesView implements SeriesOutputs {
  private series: SeriesState | undefined;

  constructor(private readonly all: SeriesEmission) {}

  of(series: SeriesState): this {
    this.series = series;
    return this;
  }

  get states(): readonly unknown[] | undefined {
    return this.series!.states;
  }

  targets(m: number): readonly PointTarget[] {
    return this.all.targetsOf(this.series!, m);
  }

  start(m: number): number | undefined {
    return this.all.startOf(this.series!, m);
  }

  setStart(m: number, start: number): void {
    this.all.setStart(this.series!, m, start);
  }
}
