/**
 * Which source offsets are safe to commit: a record's offset may be committed only once the
 * window it went into has fired and its samples were handed on. Per partition, we remember the
 * smallest offset that went into each open window; the safe offset is the smallest of those,
 * or the next offset to read when no open window holds a record of the partition.
 */
export class OffsetTracker {
  private readonly partitions = new Map<string, { next: number; firstOffsetByWindow: Map<number, number> }>();

  /** A batch starting at `firstOffset` is being processed: nothing from it is safe yet. */
  begin(key: string, firstOffset: number): void {
    if (!this.partitions.has(key)) this.partitions.set(key, { next: firstOffset, firstOffsetByWindow: new Map() });
  }

  /** The record at `offset` went into the open window starting at `windowStart`. */
  inWindow(key: string, offset: number, windowStart: number): void {
    const state = this.partitions.get(key);
    if (state && !state.firstOffsetByWindow.has(windowStart)) state.firstOffsetByWindow.set(windowStart, offset);
  }

  /**
   * Everything before `nextOffset` is handled: in a window (tracked above) or written to the
   * dead-letter topic. Called only after the batch's dead letters are acknowledged.
   */
  done(key: string, nextOffset: number): void {
    const state = this.partitions.get(key);
    if (state && nextOffset > state.next) state.next = nextOffset;
  }

  /** Forgets windows that have fired (`isFired(start)`), then returns each partition's safe offset. */
  safeOffsets(isFired: (windowStart: number) => boolean): Map<string, number> {
    const safe = new Map<string, number>();
    for (const [key, state] of this.partitions) {
      let offset = state.next;
      for (const [start, first] of state.firstOffsetByWindow) {
        if (isFired(start)) state.firstOffsetByWindow.delete(start);
        else if (first < offset) offset = first;
      }
      safe.set(key, offset);
    }
    return safe;
  }

  /** The next offset to read, when this instance has consumed from the partition. */
  position(key: string): number | undefined {
    return this.partitions.get(key)?.next;
  }

  /** Drops partitions this instance no longer owns. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.partitions.keys()) if (!keys.has(key)) this.partitions.delete(key);
  }
}
