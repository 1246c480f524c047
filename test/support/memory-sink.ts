import type { Sample } from '../../src/core/types.ts';
import type { SampleSink } from '../../src/sinks/sink.ts';

/**
 * A SampleSink in memory that acknowledges every write at once. Samples are kept per series and
 * timestamp, as a receiver stores them: a write sent again after a restore lands on the same
 * point, and a point written twice with different values is recorded as a conflict.
 */
export class MemorySink implements SampleSink {
  /** `tenant|series@timestamp` → value. */
  readonly points = new Map<string, number>();
  readonly conflicts: string[] = [];
  writes = 0;

  /** While true (or true for the write's tenant), writes wait unacknowledged (a receiver that is slow or away). */
  hold: boolean | ((tenant: string) => boolean) = false;
  private held: (() => void)[] = [];

  write(tenant: string, samples: readonly Sample[], onSettled?: () => void): void {
    this.writes++;
    if (this.hold === true || (this.hold !== false && this.hold(tenant))) {
      this.held.push(() => this.write(tenant, samples, onSettled));
      return;
    }
    for (const sample of samples) {
      const key = `${tenant}|${sample.labels.map((l) => `${l.name}=${l.value}`).join(',')}@${sample.timestampMs}`;
      const previous = this.points.get(key);
      if (previous !== undefined && !Object.is(previous, sample.value)) this.conflicts.push(`${key}: ${previous} then ${sample.value}`);
      this.points.set(key, sample.value);
    }
    onSettled?.();
  }

  /** The receiver is back: the writes held are delivered (and acknowledged) now, in order. */
  release(): void {
    this.hold = false;
    const held = this.held;
    this.held = [];
    for (const write of held) write();
  }

  /** Writes held, not yet acknowledged. */
  get heldWrites(): number {
    return this.held.length;
  }

  /** The writes held and not delivered are lost (the process holding them died); returns how many. */
  dropHeld(): number {
    const dropped = this.held.length;
    this.held = [];
    return dropped;
  }

  /** The points, sorted: two runs that emitted the same results compare equal. */
  sorted(): [string, number][] {
    return [...this.points].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
