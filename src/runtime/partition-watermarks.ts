export interface WatermarkOptions {
  readonly maxOutOfOrdernessMs: number;
  readonly allowedLatenessMs: number;
  readonly idleTimeoutMs: number;
}

interface PartitionState {
  maxEventTime: number;
  lastRecordAt: number;
  caughtUp: boolean;
}

/**
 * Per-source-partition watermarks (DESIGN §2).
 *
 * A partition's watermark is the newest event time it has shown minus `max_out_of_orderness`;
 * a record is late when older than its own partition's watermark minus `allowed_lateness`, so a
 * replay of the partition classifies every record the same way. The combined watermark is the
 * minimum over partitions that are not idle; a partition is idle when it is caught up and has
 * shown no record for `idle_timeout` (as Flink's `withIdleness`). With every partition idle the
 * watermark follows the wall clock, so a quiet stream's last windows still close. It never
 * moves back.
 */
export class PartitionWatermarks {
  private readonly partitions = new Map<string, PartitionState>();
  private combined = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: WatermarkOptions) {}

  /** Replaces the owned partitions; newly owned ones hold the watermark until they show data or idle. */
  assign(keys: readonly string[], nowMs: number): void {
    const owned = new Set(keys);
    for (const key of this.partitions.keys()) if (!owned.has(key)) this.partitions.delete(key);
    for (const key of keys) {
      if (!this.partitions.has(key)) {
        this.partitions.set(key, { maxEventTime: Number.NEGATIVE_INFINITY, lastRecordAt: nowMs, caughtUp: false });
      }
    }
  }

  /** True when the record is too old for its partition; otherwise records its event time. */
  observe(key: string, eventTimeMs: number, nowMs: number): 'late' | 'on_time' {
    let state = this.partitions.get(key);
    if (!state) {
      state = { maxEventTime: Number.NEGATIVE_INFINITY, lastRecordAt: nowMs, caughtUp: false };
      this.partitions.set(key, state);
    }
    state.lastRecordAt = nowMs;
    if (eventTimeMs < state.maxEventTime - this.options.maxOutOfOrdernessMs - this.options.allowedLatenessMs) return 'late';
    if (eventTimeMs > state.maxEventTime) state.maxEventTime = eventTimeMs;
    return 'on_time';
  }

  /** Whether the consumer has read everything the partition held at its last known end. */
  setCaughtUp(key: string, caughtUp: boolean): void {
    const state = this.partitions.get(key);
    if (state) state.caughtUp = caughtUp;
  }

  /** The combined watermark at wall-clock time `nowMs`. */
  current(nowMs: number): number {
    let min = Number.POSITIVE_INFINITY;
    for (const state of this.partitions.values()) {
      const idle = state.caughtUp && nowMs - state.lastRecordAt >= this.options.idleTimeoutMs;
      if (!idle) min = Math.min(min, state.maxEventTime - this.options.maxOutOfOrdernessMs);
    }
    const candidate = min === Number.POSITIVE_INFINITY ? nowMs - this.options.maxOutOfOrdernessMs : min;
    if (candidate > this.combined) this.combined = candidate;
    return this.combined;
  }
}
