export interface PartitionClockOptions {
  readonly maxOutOfOrdernessMs: number;
  readonly allowedLatenessMs: number;
}

/**
 * One source partition's event-time clock (DESIGN §2). Its watermark is the newest event time
 * seen minus `max_out_of_orderness`, or the wall-clock watermark it announced while idle if that
 * is later; a record older than the watermark minus `allowed_lateness` is late.
 *
 * The state is committed with the partition's source offset (as Kafka Streams keeps "partition
 * time" in offset metadata), so a replay from that offset classifies every record the same way.
 */
export class PartitionClock {
  private maxEventTime = Number.NEGATIVE_INFINITY;
  private idleWatermark = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: PartitionClockOptions) {}

  get watermark(): number {
    return Math.max(this.maxEventTime - this.options.maxOutOfOrdernessMs, this.idleWatermark);
  }

  isLate(eventTimeMs: number): boolean {
    return eventTimeMs < this.watermark - this.options.allowedLatenessMs;
  }

  /** Records an accepted event time. */
  observe(eventTimeMs: number): void {
    if (eventTimeMs > this.maxEventTime) this.maxEventTime = eventTimeMs;
  }

  /** While idle, the partition's watermark follows the wall clock (minus out-of-orderness). */
  idleAt(nowMs: number): void {
    this.idleWatermark = Math.max(this.idleWatermark, nowMs - this.options.maxOutOfOrdernessMs);
  }

  /** The offset-metadata form of this clock. */
  serialize(): string {
    return JSON.stringify({ v: 1, m: finiteOrNull(this.maxEventTime), w: finiteOrNull(this.idleWatermark) });
  }

  /** Restores from offset metadata; anything unreadable starts a fresh clock. */
  restore(metadata: string | null): void {
    let parsed: { m?: number | null; w?: number | null } = {};
    try {
      parsed = JSON.parse(metadata ?? '{}') as typeof parsed;
    } catch {
      // a fresh clock
    }
    this.maxEventTime = parsed.m ?? Number.NEGATIVE_INFINITY;
    this.idleWatermark = parsed.w ?? Number.NEGATIVE_INFINITY;
  }
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
