import { SeriesBudget } from './series-budget.ts';

/** What is kept of an expired series: its cumulative accumulators, nothing per window. */
export interface RetiredSeries {
  readonly group: number;
  readonly tenant: string;
  readonly labelValues: readonly (string | undefined)[];
  /** Per aggregator, the cumulative accumulator (undefined for per-window aggregators). */
  readonly cumulative: readonly unknown[];
  /** Cumulative metrics (bits) that had data: those resume. */
  readonly touched: number;
  /** Per aggregator, when its running total started (a returning series keeps it). */
  readonly starts: readonly (number | undefined)[];
  /** The merger's sequence number of this entry: its name in incremental checkpoints, and its order. */
  readonly seq: number;
}

/**
 * The totals of cumulative series (counters, histograms, counter rates) that expired, so that a
 * series coming back resumes where it stopped: a counter never goes backwards unseen, and
 * `increase()` stays exact across the gap (README, Semantics).
 *
 * Bounded per tenant by the series budget; when a tenant's retained totals exceed it, the
 * oldest retired first are dropped (insertion order: deterministic on replay) and counted. A
 * dropped series that returns starts from zero again, which Prometheus sees as a reset.
 */
export class RetiredTotals {
  private readonly byTenant = new Map<string, Map<string, RetiredSeries>>();
  private readonly budget: SeriesBudget;
  private count = 0;

  constructor(
    limitOf: (tenant: string) => number,
    private readonly costOf: (group: number) => number,
    private readonly onDrop: (dropped: RetiredSeries) => void,
  ) {
    this.budget = new SeriesBudget(limitOf);
  }

  get size(): number {
    return this.count;
  }

  retire(key: string, series: RetiredSeries): void {
    let retired = this.byTenant.get(series.tenant);
    if (!retired) this.byTenant.set(series.tenant, (retired = new Map()));
    retired.set(key, series);
    this.count++;
    this.budget.take(series.tenant, this.costOf(series.group));
    while (this.budget.isOver(series.tenant)) {
      const oldest = retired.keys().next();
      if (oldest.done === true) break;
      const dropped = retired.get(oldest.value)!;
      this.remove(retired, oldest.value);
      this.onDrop(dropped);
    }
  }

  /** Hands back (and forgets) the totals of a returning series, if kept. */
  take(tenant: string, key: string): RetiredSeries | undefined {
    const retired = this.byTenant.get(tenant);
    const series = retired?.get(key);
    if (series !== undefined) this.remove(retired!, key);
    return series;
  }

  /** Every retained series, oldest first per tenant (the order restore must keep). */
  *entries(): IterableIterator<[string, RetiredSeries]> {
    for (const retired of this.byTenant.values()) yield* retired;
  }

  clear(): void {
    this.byTenant.clear();
    this.budget.clear();
    this.count = 0;
  }

  private remove(retired: Map<string, RetiredSeries>, key: string): void {
    const series = retired.get(key)!;
    retired.delete(key);
    if (retired.size === 0) this.byTenant.delete(series.tenant);
    this.budget.release(series.tenant, this.costOf(series.group));
    this.count--;
  }
}
