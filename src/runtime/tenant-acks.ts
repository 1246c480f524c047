/**
 * Per tenant of an outbox: its unacknowledged samples, and since when it has gone without an
 * acknowledgement. A catch-up paces its windows on the tenants whose receivers acknowledge
 * (catch-up.ts): counted with them, one tenant whose receiver is down held every other tenant's
 * windows of the partition to one per wait.
 */
export class TenantAcks {
  /** Only tenants with unacknowledged samples: a tenant leaves when its last write is acknowledged. */
  private readonly tenants = new Map<string, { samples: number; since: number }>();

  /** When any tenant last had an acknowledgement. */
  private lastAcked = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number) {}

  added(tenant: string, samples: number): void {
    if (samples === 0) return;
    const waiting = this.tenants.get(tenant);
    // A tenant waits from its first unacknowledged write, not from its last acknowledgement before an idle spell.
    if (waiting === undefined) this.tenants.set(tenant, { samples, since: this.now() });
    else waiting.samples += samples;
  }

  acked(tenant: string, samples: number): void {
    const waiting = this.tenants.get(tenant);
    if (waiting === undefined || samples === 0) return;
    waiting.samples -= samples;
    waiting.since = this.lastAcked = this.now();
    if (waiting.samples <= 0) this.tenants.delete(tenant);
  }

  /**
   * Unacknowledged samples of the tenants that had an acknowledgement, or their first write, less
   * than `stalledAfterMs` ago; undefined when no tenant did and no acknowledgement came in that
   * time: then no receiver is answering (every one down, one shared receiver down, or all that slow)
   * and nothing tells a dead receiver from the others.
   */
  flowing(stalledAfterMs: number): number | undefined {
    const after = this.now() - stalledAfterMs;
    let samples = 0;
    let anyFlowing = this.lastAcked > after;
    for (const waiting of this.tenants.values()) {
      if (waiting.since > after) {
        samples += waiting.samples;
        anyFlowing = true;
      }
    }
    return anyFlowing ? samples : undefined;
  }

  clear(): void {
    this.tenants.clear();
  }
}
