/**
 * A trailing reference's union kept as a count per whole value (token counts, lengths, status
 * codes: what a drift feature mostly is), which the window entering adds to and the window leaving
 * subtracts from, in place. The union is never laid out as sorted arrays for K-S, the default
 * method up to 1000 reference values: ks.ts reads its running counts straight off the slots, at
 * the current window's values only (slotLatticeStatistic). Other methods get the sorted form, laid
 * out from the slots when first asked for after a slide.
 *
 * Was: the union re-laid out at every window as sorted values, counts and running sums (a bitmap
 * of the values held read out in order into three arrays), then walked again by K-S. The counts
 * are whole numbers, so every sum is exact: the same statistic, values and running sums, bit for
 * bit, as the union merged afresh (counts-union.test.ts).
 */
import type { NumericSample, SlotCounts } from './sample.ts';
import type { SortedCounts } from './sorted-counts.ts';

/** Counts per value over a span of at most this many slots per value of the windows: 8 B a slot, per series. */
const SPAN_PER_VALUE = 4;
/** Beyond ±2^52 a value minus the base may not be exact. */
const MAGNITUDE = 2 ** 52;
/** The union's values, at most: every count and running count an int32. */
const MAX_TOTAL = 2 ** 31 - 1;

export class CountsUnion {
  /** counts[v - base]: the union's count of whole value v (whole counts, their total under 2^31: int32 adds in the walk, 4 B a slot). */
  private counts: Int32Array;
  /** A bit per slot held (a non-zero count), so a sorted form is read out held value by held value. */
  private readonly held: Int32Array;
  private base: number;
  private total = 0;
  /** Slots held (a non-zero count): the union's distinct values. */
  private distinct = 0;
  /** The sample handed out since the last slide (its sorted form laid out on demand, into `layout`). */
  private view: SlotSample | undefined;
  private readonly layout: LayoutBuffers = { values: new Float64Array(0), cumulative: new Float64Array(0) };

  private constructor(
    lo: number,
    span: number,
    /** Past this many distinct values the union is not exact: the merged union it stands for is a sketch (maxExactValues). */
    private readonly maxDistinct: number,
  ) {
    // Room for the values to wander by an eighth of their span each way before the union is rebuilt.
    const room = Math.ceil(span / 8);
    this.counts = new Int32Array(32 * Math.ceil((span + 2 * room) / 32));
    this.held = new Int32Array(this.counts.length / 32);
    this.base = lo - room;
  }

  /**
   * The union of `windows`' exact forms, or undefined where counts per value do not fit: a value
   * or count that is not whole, a span wider than SPAN_PER_VALUE slots per distinct value of
   * the windows, or more than `maxDistinct` distinct values, where the union merged from the
   * windows is a sketch (the caller then merges them).
   */
  static of(windows: readonly SortedCounts[], maxDistinct: number): CountsUnion | undefined {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    let values = 0;
    for (const w of windows) {
      const n = w.values.length;
      if (n === 0) continue;
      lo = Math.min(lo, w.values[0]!);
      hi = Math.max(hi, w.values[n - 1]!);
      values += n;
    }
    // A base with a fraction would make values sharing it look whole (0.1 + 1 - 0.1 is 1).
    if (values === 0 || !Number.isInteger(lo)) return undefined;
    const span = hi - lo + 1;
    if (!(span <= SPAN_PER_VALUE * values + 64) || !(Math.abs(lo) <= MAGNITUDE && Math.abs(hi) <= MAGNITUDE)) return undefined;
    const union = new CountsUnion(lo, span, maxDistinct);
    for (const w of windows) if (!union.add(w)) return undefined;
    return union.distinct <= maxDistinct ? union : undefined;
  }

  /** Values held (the union's size). */
  get size(): number {
    return this.total;
  }

  /** The union minus `removed` plus `added`; false where that cannot be done in place (the caller rebuilds). */
  slide(removed: SortedCounts, added: SortedCounts): boolean {
    this.view = undefined;
    return this.remove(removed) && this.add(added) && this.distinct <= this.maxDistinct;
  }

  /** The union as a sample, valid until the next slide. */
  sample(): NumericSample {
    return (this.view ??= new SlotSample({ counts: this.counts, base: this.base }, this.held, this.total, this.distinct, this.layout));
  }

  private add(w: SortedCounts): boolean {
    const { counts, held, base } = this;
    const { values, counts: weights } = w;
    const n = values.length;
    if (n === 0) return true;
    if (!(values[0]! - base >= 0 && values[n - 1]! - base < counts.length)) return false;
    let distinct = this.distinct;
    let total = this.total;
    for (let i = 0; i < n; i++) {
      const slot = values[i]! - base;
      const c = weights[i]!;
      if (!Number.isInteger(slot) || !Number.isInteger(c) || !(total + c <= MAX_TOTAL)) return false;
      const had = counts[slot]!;
      distinct += had === 0 ? 1 : 0;
      counts[slot] = had + c;
      total += c;
      held[slot >>> 5] = held[slot >>> 5]! | (1 << (slot & 31));
    }
    this.distinct = distinct;
    this.total = total;
    return true;
  }

  private remove(w: SortedCounts): boolean {
    const { counts, held, base } = this;
    const { values, counts: weights } = w;
    let distinct = this.distinct;
    let total = this.total;
    for (let i = 0; i < values.length; i++) {
      const slot = values[i]! - base;
      const gone = weights[i]!;
      const had = slot >= 0 && slot < counts.length ? counts[slot]! : 0;
      if (!Number.isInteger(slot) || !Number.isInteger(gone) || !(gone <= had)) return false;
      counts[slot] = had - gone;
      distinct -= had === gone ? 1 : 0;
      total -= gone;
      held[slot >>> 5] = held[slot >>> 5]! & ~(had === gone ? 1 << (slot & 31) : 0);
    }
    this.distinct = distinct;
    this.total = total;
    return true;
  }
}

/** Where a union's sorted form is laid out: grown, reused from slide to slide (a sample lives until the next one). */
interface LayoutBuffers {
  values: Float64Array;
  cumulative: Float64Array;
}

/**
 * A union's sample: its size and distinct values at once, its sorted values and running sums
 * (and so min and max) laid out from the slots on first read. K-S reads `slots` instead.
 */
class SlotSample implements NumericSample {
  readonly kind = 'numerical';
  readonly integral = true;
  private laidOut: LayoutBuffers | undefined;

  constructor(
    readonly slots: SlotCounts,
    private readonly held: Int32Array,
    readonly total: number,
    readonly distinct: number,
    private readonly buffers: LayoutBuffers,
  ) {}

  get values(): Float64Array {
    return this.layOut().values;
  }

  get cumulativeWeights(): Float64Array {
    return this.layOut().cumulative;
  }

  get min(): number {
    const { values } = this.layOut();
    return values.length === 0 ? Number.NaN : values[0]!;
  }

  get max(): number {
    const { values } = this.layOut();
    return values.length === 0 ? Number.NaN : values[values.length - 1]!;
  }

  /** The held slots in order, bit by bit (reading every slot of the span instead cost a branch per empty one). */
  private layOut(): LayoutBuffers {
    if (this.laidOut !== undefined) return this.laidOut;
    const { counts, base } = this.slots;
    const { held, buffers } = this;
    if (buffers.values.length < this.distinct) {
      const size = Math.max(this.distinct, 2 * buffers.values.length);
      buffers.values = new Float64Array(size);
      buffers.cumulative = new Float64Array(size);
    }
    const { values, cumulative } = buffers;
    let k = 0;
    let running = 0;
    for (let w = 0; w < held.length; w++) {
      let word = held[w]!;
      while (word !== 0) {
        const lowest = word & -word;
        const slot = (w << 5) + 31 - Math.clz32(lowest);
        word ^= lowest;
        values[k] = base + slot;
        cumulative[k++] = running += counts[slot]!;
      }
    }
    return (this.laidOut = { values: values.subarray(0, k), cumulative: cumulative.subarray(0, k) });
  }
}
