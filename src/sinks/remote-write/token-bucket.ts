/**
 * A token bucket for a tenant's samples/s limit, shared by the tenant's
 * shards. It throttles sending rather than dropping: a shard asks how long to
 * wait before it may send a batch, and samples that arrive faster than the
 * limit wait in the tenant's backlog, where its backlog policy (block or
 * drop_oldest) applies — so a limit never loses data silently.
 *
 * A batch larger than the burst is allowed into debt (the balance goes
 * negative and later batches wait it off), so no batch size can deadlock.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  /**
   * @param ratePerSecond tokens added per second
   * @param burst most tokens held (the largest batch sent without waiting)
   * @param now clock in ms, injectable for tests
   */
  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  /**
   * Takes `n` tokens if the bucket can cover min(n, burst) now and returns 0;
   * otherwise takes nothing and returns the ms to wait before asking again.
   */
  take(n: number): number {
    this.refill();
    const needed = Math.min(n, this.burst);
    if (this.tokens >= needed) {
      this.tokens -= n;
      return 0;
    }
    return Math.ceil(((needed - this.tokens) / this.ratePerSecond) * 1000);
  }

  /** Tokens available now (negative while in debt). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = now - this.updatedAt;
    if (elapsed <= 0) return;
    this.updatedAt = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.ratePerSecond);
  }
}
