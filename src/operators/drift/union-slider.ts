/**
 * How a trailing reference's union of sorted forms slides from one window to the next: from −
 * removed + added, in one merge walk (`slideSorted`). Whole values in a narrow span never come
 * here: they are kept as counts per value (counts-union.ts); this is the path of fractional values
 * and wide spans.
 */
import { slideBuffers, slideSorted, type SlideBuffers, type SortedCounts, type SortedWithSums } from './sorted-counts.ts';

export class UnionSlider {
  /** Two sets of output buffers used in turn: the union slid at one window stays as handed out until the slide after next. */
  private readonly buffers: [SlideBuffers, SlideBuffers] = [slideBuffers(), slideBuffers()];
  private parity = 0;

  /**
   * from − removed + added into buffers of its own (views of them are returned). Undefined where a
   * removed value is not held with at least its count, or a count that meets a removed one is not
   * whole: the caller rebuilds by merging.
   */
  slide(from: SortedCounts, removed: SortedCounts, added: SortedCounts): SortedWithSums | undefined {
    const next = slideSorted(from, removed, added, this.buffers[this.parity]!);
    if (next !== undefined) this.parity ^= 1;
    return next;
  }
}
