/**
 * Window close → queryable latency, watched from inside the pipeline's process at each poll: a
 * window [T − size, T) closes when stage 2's watermark passes T + allowed_lateness, and is
 * queryable in a tenant's Prometheus once the tenant's highest acknowledged sample timestamp
 * (`sluice_remote_write_highest_sent_timestamp_seconds`, what Prometheus' own remote-write delay
 * reads) reaches T — a 2xx from Prometheus means the samples are appended and queryable. The
 * first acknowledged series of the window counts, so shards lagging behind it are not seen; the
 * resolution is the poll interval.
 */
export class WindowLatencyWatch {
  /** Window end → when the watermark passed its close. */
  private readonly closedAt = new Map<number, number>();
  /** Tenant → the newest window end already acknowledged. */
  private readonly newestAcked = new Map<string, number>();
  private readonly latenciesMs: number[] = [];
  private newestClosed = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly windowMs: number,
    private readonly allowedLatenessMs: number,
  ) {}

  /** One poll: the stage-2 watermark (ms) and each tenant's highest acknowledged timestamp (s). */
  observe(watermarkMs: number, highestAckedSeconds: ReadonlyMap<string, number>, nowMs: number): void {
    const closed = Math.floor((watermarkMs - this.allowedLatenessMs) / this.windowMs) * this.windowMs;
    if (Number.isFinite(closed) && closed > this.newestClosed) {
      // Windows whose close was crossed since the last poll closed by now (the first poll only marks where it starts).
      if (Number.isFinite(this.newestClosed)) for (let end = this.newestClosed + this.windowMs; end <= closed; end += this.windowMs) this.closedAt.set(end, nowMs);
      this.newestClosed = closed;
    }
    for (const [tenant, seconds] of highestAckedSeconds) {
      const acked = Math.floor((seconds * 1000) / this.windowMs) * this.windowMs;
      const before = this.newestAcked.get(tenant) ?? Number.NEGATIVE_INFINITY;
      for (let end = Number.isFinite(before) ? before + this.windowMs : acked; end <= acked; end += this.windowMs) {
        const closedAt = this.closedAt.get(end);
        if (closedAt !== undefined) this.latenciesMs.push(nowMs - closedAt);
      }
      if (acked > before) this.newestAcked.set(tenant, acked);
    }
  }

  /** p50 and p99 (ms) over every (tenant, window) seen close and acknowledged, and how many. */
  summary(): { count: number; p50Ms: number; p99Ms: number } {
    const sorted = [...this.latenciesMs].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
    return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99) };
  }
}
