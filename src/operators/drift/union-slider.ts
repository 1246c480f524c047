/**
 * How a trailing reference's union slides from one window to the next: from − removed + added.
 *
 * Whole values in a narrow span (token counts, lengths, status codes: what a drift feature mostly
 * is) keep a count per value across windows and a bitmap of the values held, so a slide touches
 * only the removed and added windows' values, then reads the held values out in order from the
 * bitmap. The merge walk (`slideSorted`) compares every value of the union at every window, with
 * branches that mispredict on most steps; reading every slot of the span instead cost as much,
 * a branch per slot on whether it was empty. Both give the same values, counts and running sums,
 * bit for bit: each count is the same (from − removed) + added, and the sums run in value order.
 */
import { slideBuffers, slideSorted, type SlideBuffers, type SortedCounts, type SortedWithSums } from './sorted-counts.ts';

/** Counts per value over a span of at most this many slots per value of the union. */
const SPAN_PER_VALUE = 8;
/** Beyond ±2^52 a value minus the base may not be exact. */
const MAGNITUDE = 2 ** 52;

export class UnionSlider {
  /** Two sets of output buffers used in turn: the union slid at one window stays as handed out until the slide after next. */
  private readonly buffers: [SlideBuffers, SlideBuffers] = [slideBuffers(), slideBuffers()];
  private parity = 0;
  /** counts[v - base]: the union's count of whole value v, and a bit per slot held, while `holds` is the sorted form they equal. */
  private counts = new Float64Array(0);
  private held = new Int32Array(0);
  private base = 0;
  private holds: SortedCounts | undefined;

  /**
   * from − removed + added into buffers of its own (views of them are returned; the counts per
   * value are reused when `from` is what the last slide returned). `integral`: every value of the
   * three is whole. Undefined where a removed value is not held with at least its count, or a
   * count that meets a removed one is not whole: the caller rebuilds by merging.
   */
  slide(from: SortedCounts, removed: SortedCounts, added: SortedCounts, integral: boolean): SortedWithSums | undefined {
    const into = this.buffers[this.parity]!;
    const next = (integral ? this.slideCounted(from, removed, added, into) : null) ?? slideSorted(from, removed, added, into);
    if (next !== undefined) this.parity ^= 1;
    return next;
  }

  /** Null where the span is too wide for counts per value (the merge walk then slides). */
  private slideCounted(from: SortedCounts, removed: SortedCounts, added: SortedCounts, into: SlideBuffers): SortedWithSums | undefined | null {
    const n = from.values.length;
    const m = added.values.length;
    if (n === 0 || m === 0) return null;
    const lo = Math.min(from.values[0]!, added.values[0]!);
    const hi = Math.max(from.values[n - 1]!, added.values[m - 1]!);
    const span = hi - lo + 1;
    if (!(span <= SPAN_PER_VALUE * (n + m) + 64) || !(Math.abs(lo) <= MAGNITUDE && Math.abs(hi) <= MAGNITUDE)) return null;
    if (this.holds !== from || lo < this.base || hi - this.base >= this.counts.length) this.load(from, lo, span);
    this.holds = undefined;
    const { counts, held, base } = this;
    for (let j = 0; j < removed.values.length; j++) {
      const slot = removed.values[j]! - base;
      const gone = removed.counts[j]!;
      const had = slot >= 0 && slot < counts.length ? counts[slot]! : 0;
      if (!Number.isInteger(had) || !Number.isInteger(gone) || !(gone <= had)) return undefined;
      const left = had - gone;
      counts[slot] = left;
      const word = slot >>> 5;
      held[word] = held[word]! & ~(left === 0 ? 1 << (slot & 31) : 0);
    }
    for (let k = 0; k < m; k++) {
      const slot = added.values[k]! - base;
      counts[slot] = counts[slot]! + added.counts[k]!;
      const word = slot >>> 5;
      held[word] = held[word]! | (1 << (slot & 31));
    }
    if (into.values.length < n + m) {
      const size = Math.max(n + m, 2 * into.values.length);
      into.values = new Float64Array(size);
      into.counts = new Float64Array(size);
      into.cumulative = new Float64Array(size);
    }
    const { values, counts: outCounts, cumulative } = into;
    let out = 0;
    let running = 0;
    for (let w = (lo - base) >>> 5, last = (hi - base) >>> 5; w <= last; w++) {
      let word = held[w]!;
      while (word !== 0) {
        const lowest = word & -word;
        const slot = (w << 5) + 31 - Math.clz32(lowest);
        word ^= lowest;
        const c = counts[slot]!;
        values[out] = base + slot;
        outCounts[out] = c;
        cumulative[out++] = running += c;
      }
    }
    const next = { values: values.subarray(0, out), counts: outCounts.subarray(0, out), cumulative: cumulative.subarray(0, out) };
    this.holds = next;
    return next;
  }

  /** Counts per value of `from`, over [lo, lo + span) with room for the span to drift by an eighth of its width each way (a union per series: kept small for the cache). */
  private load(from: SortedCounts, lo: number, span: number): void {
    const room = Math.ceil(span / 8);
    const size = 32 * Math.ceil((span + 2 * room) / 32);
    if (this.counts.length < size) {
      this.counts = new Float64Array(size);
      this.held = new Int32Array(size / 32);
    } else {
      this.counts.fill(0);
      this.held.fill(0);
    }
    this.base = lo - room;
    for (let i = 0; i < from.values.length; i++) {
      const slot = from.values[i]! - this.base;
      this.counts[slot] = from.counts[i]!;
      this.held[slot >>> 5] = this.held[slot >>> 5]! | (1 << (slot & 31));
    }
  }
}
