/**
 * The shards of one tenant: a queue (SampleRing) and a batch in flight each, and a pump that cuts
 * a batch when it is due and hands it to the delivery.
 *
 * A series always maps to the same shard (hash of its labels), and a shard has exactly one
 * request in flight, because Prometheus rejects a sample older than the newest one it has for
 * that series: two concurrent requests for one series could land out of order. Different series
 * go out in parallel over `shards` requests.
 *
 * A batch is due when it is full (max_samples or max_bytes), when its oldest sample has waited
 * max_delay, or when the sender says its oldest write is urgent (a flush or close waits for it).
 */
import { Batch } from './batch.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { SampleRing } from './sample-ring.ts';
import type { Ticket } from './settlement.ts';

export interface BatchLimits {
  readonly maxSamples: number;
  readonly maxBytes: number;
  readonly maxDelayMs: number;
}

export interface ShardBatcherOptions {
  readonly shards: number;
  readonly limits: BatchLimits;
  readonly clock: Clock;
  /** Sends a batch and settles every entry of it. */
  readonly deliver: (batch: Batch) => Promise<void>;
  /** deliver() threw (a bug): settle what is left of the batch. */
  readonly onDeliverError: (batch: Batch, error: unknown) => void;
  /** True when the write of `ticket` must go out now, full batch or not. */
  readonly urgent: (ticket: Ticket) => boolean;
}

class Shard {
  readonly ring = new SampleRing();
  readonly batch: Batch;
  pumping = false;
  kickScheduled = false;
  timer: TimerHandle | undefined;

  constructor(batchCapacity: number) {
    this.batch = new Batch(batchCapacity);
  }

  clearTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

export class ShardBatcher {
  private readonly shards: Shard[];

  constructor(private readonly o: ShardBatcherOptions) {
    this.shards = Array.from({ length: o.shards }, () => new Shard(o.limits.maxSamples));
  }

  ring(shard: number): SampleRing {
    return this.shards[shard]!.ring;
  }

  /** Sends what is due now, and arms a max_delay timer for what is not. */
  scheduleAll(): void {
    for (const shard of this.shards) if (shard.ring.size > 0) this.schedule(shard);
  }

  /** Starts every idle shard's pump (a flush or close wants everything out). */
  kickAll(): void {
    for (const shard of this.shards) this.kick(shard);
  }

  stop(): void {
    for (const shard of this.shards) shard.clearTimer();
  }

  /** drop_oldest: removes the queued (not in-flight) sample of the oldest write, across shards. */
  dropOldest(): { ticket: Ticket; weight: number } | undefined {
    let oldest: Shard | undefined;
    for (const shard of this.shards) {
      const ticket = shard.ring.oldestTicket;
      if (ticket !== undefined && (oldest === undefined || ticket.seq < oldest.ring.oldestTicket!.seq)) oldest = shard;
    }
    return oldest?.ring.dropOldest();
  }

  /** Samples of `ticket` sitting in queues (only used on the error path). */
  queuedFor(ticket: Ticket): number {
    let n = 0;
    for (const shard of this.shards) n += shard.ring.weightFor(ticket);
    return n;
  }

  private schedule(shard: Shard): void {
    if (shard.pumping) return; // the running pump re-checks after its request
    if (this.due(shard)) this.kick(shard);
    else if (shard.timer === undefined) this.armTimer(shard);
  }

  /**
   * Starts the pump on a microtask, so a burst of write() calls in one tick coalesces into one
   * batch and write() never encodes on the caller's stack.
   */
  private kick(shard: Shard): void {
    if (shard.pumping || shard.kickScheduled || shard.ring.size === 0) return;
    shard.kickScheduled = true;
    queueMicrotask(() => {
      shard.kickScheduled = false;
      void this.pump(shard);
    });
  }

  private async pump(shard: Shard): Promise<void> {
    if (shard.pumping) return;
    shard.pumping = true;
    shard.clearTimer();
    const { maxSamples, maxBytes } = this.o.limits;
    try {
      while (shard.ring.size > 0) {
        if (!this.due(shard)) {
          this.armTimer(shard);
          break;
        }
        shard.ring.takeInto(shard.batch, maxSamples, maxBytes);
        try {
          await this.o.deliver(shard.batch);
        } catch (error) {
          this.o.onDeliverError(shard.batch, error);
        }
        shard.batch.size = 0;
      }
    } finally {
      shard.pumping = false;
    }
  }

  private due(shard: Shard): boolean {
    const ring = shard.ring;
    const oldest = ring.oldestTicket;
    if (oldest === undefined) return false;
    const { maxSamples, maxBytes, maxDelayMs } = this.o.limits;
    if (ring.size >= maxSamples || ring.bytes >= maxBytes || this.o.urgent(oldest)) return true;
    return this.o.clock.now() - oldest.at >= maxDelayMs;
  }

  private armTimer(shard: Shard): void {
    const oldest = shard.ring.oldestTicket;
    if (oldest === undefined || shard.timer !== undefined) return;
    const wait = Math.max(0, oldest.at + this.o.limits.maxDelayMs - this.o.clock.now());
    shard.timer = this.o.clock.setTimer(wait, () => {
      shard.timer = undefined;
      this.kick(shard);
    });
  }
}
