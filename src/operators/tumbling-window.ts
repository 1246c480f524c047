/**
 * Tumbling event-time windows of a fixed size, aligned to the epoch (as Flink and Kafka
 * Streams align them), so every instance and every replay assigns a record the same window.
 * A window covers [start, start + size); its samples are stamped with its end.
 */
export class TumblingWindows {
  constructor(readonly sizeMs: number) {
    if (!(sizeMs > 0) || !Number.isInteger(sizeMs)) throw new RangeError(`window size must be a positive integer of ms, got ${sizeMs}`);
  }

  /** Start of the window that holds `eventTimeMs`. */
  startOf(eventTimeMs: number): number {
    return eventTimeMs - mod(eventTimeMs, this.sizeMs);
  }

  endOf(windowStart: number): number {
    return windowStart + this.sizeMs;
  }
}

/** Modulo that stays non-negative for negative times. */
function mod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}
