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

  /**
   * Restores from offset metadata; anything unreadable starts a fresh clock. That includes `null`
   * and the string `'null'`: a partition never committed has no clock yet.
   */
  restore(metadata: string | null): void {
    const parsed = parseClock(metadata);
    this.maxEventTime = parsed.m;
    this.idleWatermark = parsed.w;
  }
}

/** The two times of a serialized clock, each −∞ where absent or not a finite number. */
function parseClock(metadata: string | null): { m: number; w: number } {
  let value: unknown;
  try {
    value = JSON.parse(metadata ?? 'null');
  } catch {
    value = null;
  }
  const fields = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  return { m: finiteOrNegativeInfinity(fields.m), w: finiteOrNegativeInfinity(fields.w) };
}

function finiteOrNegativeInfinity(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : Number.NEGATIVE_INFINITY;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
