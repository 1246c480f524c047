/**
 * Per tenant, how many series one stage-2 task holds, counted as the receiver counts them
 * (a histogram's every bucket, `_sum` and `_count`), against a limit per tenant. Used twice by
 * the merger: once for live series state, once for the totals kept of expired series.
 *
 * The counts are not checkpointed: the merger recomputes them from the series it restores, so
 * they can never disagree with the state they describe.
 */
export class SeriesBudget {
  private readonly used = new Map<string, number>();

  constructor(private readonly limitOf: (tenant: string) => number) {}

  /** Takes `cost` from the tenant's budget if it fits; false (and nothing taken) if it does not. */
  tryTake(tenant: string, cost: number): boolean {
    const used = this.used.get(tenant) ?? 0;
    if (used + cost > this.limitOf(tenant)) return false;
    this.used.set(tenant, used + cost);
    return true;
  }

  /** Takes `cost` whatever the limit (restoring, or before evicting to make room). */
  take(tenant: string, cost: number): void {
    this.used.set(tenant, (this.used.get(tenant) ?? 0) + cost);
  }

  release(tenant: string, cost: number): void {
    const left = (this.used.get(tenant) ?? 0) - cost;
    if (left > 0) this.used.set(tenant, left);
    else this.used.delete(tenant);
  }

  isOver(tenant: string): boolean {
    return (this.used.get(tenant) ?? 0) > this.limitOf(tenant);
  }

  clear(): void {
    this.used.clear();
  }
}

/** A budget without a limit, for mergers run without one (tests, tools). */
export const UNLIMITED = (): number => Number.POSITIVE_INFINITY;

/**
 * The share of a tenant's series budget one of `partitions` stage-2 tasks enforces. Series are
 * spread over tasks by a hash of their key and each task decides alone (so a replay of one task
 * decides the same), hence a tenant's whole state stays within about `limit` series.
 */
export function taskShare(limit: number, partitions: number): number {
  return Math.ceil(limit / partitions);
}
