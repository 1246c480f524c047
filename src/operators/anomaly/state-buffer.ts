/**
 * A detector keeps its whole state in one Float64Array, laid out as its snapshot: every part works
 * on its own fixed-length view of it (scalars at fixed slots, tables as sub-views). So the state is
 * O(1) and contiguous, a checkpoint writes those bytes as they are (no per-part copy, no
 * allocation per window), a restore is one copy in, and the round trip is byte-exact: NaN,
 * ±Infinity and every double survive, which JSON would not.
 */
export class SlotCursor {
  private at: number;

  constructor(
    private readonly state: Float64Array,
    at: number,
  ) {
    this.at = at;
  }

  /** The next `count` slots, as a view the part owns. */
  take(count: number): Float64Array {
    const view = this.state.subarray(this.at, this.at + count);
    this.at += count;
    return view;
  }

  /** Slots handed out so far (with the start offset). */
  get used(): number {
    return this.at;
  }
}
