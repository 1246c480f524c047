import { zeroedDoubles } from '../aggregations/double-slab.ts';

/**
 * A numerical drift window's exact values in the form the tests score and the wire carries: distinct
 * values ascending with their counts, as two parallel Float64Arrays. Once built it is never written
 * to (save a trailing union's own slide buffers), so windows share it (a copy, a union adopting its
 * first window, a sample) instead of copying, and unions merge by walking two of them in order
 * instead of hashing and re-sorting.
 */
export interface SortedCounts {
  /** Distinct finite values, strictly ascending (no -0: a window folds it into 0). */
  readonly values: Float64Array;
  /** counts[i]: the weight of values[i], positive. */
  readonly counts: Float64Array;
  /** The wire's exact form whose views `values` and `counts` are, when they are (encoding it is then no copy). */
  readonly wire?: Float64Array | undefined;
  /** counts' running sums, when they came with the form (a decoded window: written as its counts were checked). */
  readonly cumulative?: Float64Array | undefined;
}

export const EMPTY_COUNTS: SortedCounts = { values: new Float64Array(0), counts: new Float64Array(0) };

/** The wire's exact form of n distinct values, header written: [2, 0, n, values[n], counts[n]] (window-bytes.ts). */
export function exactLayout(n: number): { all: Float64Array; values: Float64Array; counts: Float64Array } {
  // On a shared slab when small: a settled stage-1 window took its own off-heap buffer (~1.5 µs) per series and window.
  return exactFormIn(zeroedDoubles(EXACT_HEADER + 2 * n), n);
}

/** `all` (EXACT_HEADER + 2n doubles) as the exact form of n values: header written, values and counts as views. */
function exactFormIn(all: Float64Array, n: number): { all: Float64Array; values: Float64Array; counts: Float64Array } {
  all[0] = WIRE_VERSION;
  all[1] = EXACT_FORM;
  all[2] = n;
  return { all, values: all.subarray(EXACT_HEADER, EXACT_HEADER + n), counts: all.subarray(EXACT_HEADER + n) };
}

/** A layout of the wire's exact form for n values: exactLayout's, or scratchLayout's (valid until its next call). */
export type ExactLayout = (n: number) => { all: Float64Array; values: Float64Array; counts: Float64Array };

let scratchWire = new Float64Array(256);

/** exactLayout in one buffer per process, grown: for bytes copied at once (DriftWindow.wireOnce). */
export function scratchLayout(n: number): { all: Float64Array; values: Float64Array; counts: Float64Array } {
  if (scratchWire.length < EXACT_HEADER + 2 * n) scratchWire = new Float64Array(Math.max(EXACT_HEADER + 2 * n, 2 * scratchWire.length));
  return exactFormIn(scratchWire.subarray(0, EXACT_HEADER + 2 * n), n);
}

/** The wire's exact form's header (version 2, form 0, length): window-bytes.ts reads it. */
export const WIRE_VERSION = 2;
export const EXACT_FORM = 0;
export const EXACT_HEADER = 3;

/** Where raw values are sorted: one buffer per process, grown, so a window's settle allocates only its result. */
let scratchValues = new Float64Array(256);
let scratchWeights = new Float64Array(256);

/**
 * Raw values (and their weights, or 1 each when `weights` is null) as sorted distinct values with
 * their counts. The inputs are left as they are (sorted in a scratch copy). The result's two arrays
 * are views of one buffer laid out as the wire's exact form (window-bytes.ts), so the partial that
 * carries the window is that buffer, not another copy of it.
 */
export function sortedRuns(values: ArrayLike<number>, weights: ArrayLike<number> | null, layout: ExactLayout = exactLayout): SortedCounts {
  const n = values.length;
  if (scratchValues.length < n) {
    scratchValues = new Float64Array(Math.max(n, 2 * scratchValues.length));
    scratchWeights = new Float64Array(scratchValues.length);
  }
  const sorted = scratchValues;
  const w = scratchWeights;
  for (let i = 0; i < n; i++) sorted[i] = values[i]!;
  if (weights === null) {
    sorted.subarray(0, n).sort();
  } else {
    for (let i = 0; i < n; i++) w[i] = weights[i]!;
    sortPairs(sorted, w, 0, n - 1);
  }
  let distinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  const { all, values: outValues, counts: outCounts } = layout(distinct);
  let k = -1;
  for (let i = 0; i < n; i++) {
    const c = weights === null ? 1 : w[i]!;
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      outValues[++k] = sorted[i]!;
      outCounts[k] = c;
    } else {
      outCounts[k]! += c;
    }
  }
  return { values: outValues, counts: outCounts, wire: all };
}

/** A span of whole values counted slot by slot costs about what sorting this many values per slot does. */
const COUNTING_SPAN_PER_VALUE = 8;
/** Beyond ±2^52 a value minus the minimum may not be exact: sorted instead. */
const COUNTING_MAGNITUDE = 2 ** 52;
let scratchTally = new Float64Array(1024);
/** One bit per slot of the tally, set where a value landed. */
let scratchOccupied = new Int32Array(32);

/**
 * Whole values between `min` and `max` (both held, all values within them), as `sortedRuns(values,
 * null)` gives them, by counting per integer instead of sorting, where the span is at most 8 slots
 * per value (token counts, lengths, status codes): one pass to tally, then the occupied slots in
 * order from a bitmap of them, no comparisons between values (sorting 100 values cost ~4.5 us
 * here, mostly mispredicted branches; reading every slot of a span of 800 for its ~90 values cost
 * about as much, a branch per slot on whether it was empty).
 * Undefined where the span is wider (the caller sorts).
 */
export function countedRuns(values: ArrayLike<number>, min: number, max: number, layout: ExactLayout = exactLayout): SortedCounts | undefined {
  const n = values.length;
  const span = max - min + 1;
  if (!(span <= COUNTING_SPAN_PER_VALUE * n + 64) || !(Math.abs(min) <= COUNTING_MAGNITUDE && Math.abs(max) <= COUNTING_MAGNITUDE)) return undefined;
  if (scratchTally.length < span) scratchTally = new Float64Array(Math.max(span, 2 * scratchTally.length));
  const words = (span + 31) >>> 5;
  if (scratchOccupied.length < words) scratchOccupied = new Int32Array(Math.max(words, 2 * scratchOccupied.length));
  const tally = scratchTally;
  const occupied = scratchOccupied;
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    const slot = values[i]! - min;
    const before = tally[slot]!;
    tally[slot] = before + 1;
    distinct += before === 0 ? 1 : 0;
    const word = slot >>> 5;
    occupied[word] = occupied[word]! | (1 << (slot & 31));
  }
  const { all, values: outValues, counts: outCounts } = layout(distinct);
  let k = 0;
  for (let w = 0; w < words; w++) {
    let word = occupied[w]!;
    if (word === 0) continue;
    occupied[w] = 0;
    while (word !== 0) {
      const lowest = word & -word;
      const slot = (w << 5) + 31 - Math.clz32(lowest);
      word ^= lowest;
      outValues[k] = min + slot;
      outCounts[k++] = tally[slot]!;
      tally[slot] = 0;
    }
  }
  return { values: outValues, counts: outCounts, wire: all };
}

/** Quicksort of values[lo..hi] carrying counts along; insertion sort below 16. */
function sortPairs(values: Float64Array, counts: Float64Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const a = values[lo]!;
    const b = values[(lo + hi) >>> 1]!;
    const c = values[hi]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        swap(values, i, j);
        swap(counts, i, j);
        i++;
        j--;
      }
    }
    // Recurse into the smaller side, loop on the larger: the stack stays O(log n).
    if (j - lo < hi - i) {
      sortPairs(values, counts, lo, j);
      lo = i;
    } else {
      sortPairs(values, counts, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = values[i]!;
    const c = counts[i]!;
    let j = i - 1;
    for (; j >= lo && values[j]! > v; j--) {
      values[j + 1] = values[j]!;
      counts[j + 1] = counts[j]!;
    }
    values[j + 1] = v;
    counts[j + 1] = c;
  }
}

function swap(array: Float64Array, i: number, j: number): void {
  const t = array[i]!;
  array[i] = array[j]!;
  array[j] = t;
}

/** a ∪ b, counts added where values meet (a's first, as a map merge adds them). */
export function mergeSorted(a: SortedCounts, b: SortedCounts): SortedCounts {
  const n = a.values.length;
  const m = b.values.length;
  const values = new Float64Array(n + m);
  const counts = new Float64Array(n + m);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < n && j < m) {
    const x = a.values[i]!;
    const y = b.values[j]!;
    if (x < y) {
      values[k] = x;
      counts[k++] = a.counts[i++]!;
    } else if (y < x) {
      values[k] = y;
      counts[k++] = b.counts[j++]!;
    } else {
      values[k] = x;
      counts[k++] = a.counts[i++]! + b.counts[j++]!;
    }
  }
  for (; i < n; i++, k++) {
    values[k] = a.values[i]!;
    counts[k] = a.counts[i]!;
  }
  for (; j < m; j++, k++) {
    values[k] = b.values[j]!;
    counts[k] = b.counts[j]!;
  }
  return k === n + m ? { values, counts } : { values: values.subarray(0, k), counts: counts.subarray(0, k) };
}

/** Reusable output arrays of `slideSorted`, grown as needed. */
export interface SlideBuffers {
  values: Float64Array;
  counts: Float64Array;
  cumulative: Float64Array;
}

export const slideBuffers = (): SlideBuffers => ({ values: new Float64Array(0), counts: new Float64Array(0), cumulative: new Float64Array(0) });

/** A sorted form with its running sums (a sample's cumulative weights), as `slideSorted` writes it. */
export interface SortedWithSums extends SortedCounts {
  readonly cumulative: Float64Array;
}

/**
 * from − removed + added in one walk, with the running sums, into `into` (views of it are
 * returned). Only where every count that meets a removed one is a whole number, so the
 * differences are exact and equal to merging the rest afresh. Undefined when that does not hold
 * or a removed value is not held with at least its count: the caller then rebuilds by merging.
 */
export function slideSorted(from: SortedCounts, removed: SortedCounts, added: SortedCounts, into: SlideBuffers): SortedWithSums | undefined {
  const n = from.values.length;
  const r = removed.values.length;
  const m = added.values.length;
  if (into.values.length < n + m) {
    const size = Math.max(n + m, 2 * into.values.length);
    into.values = new Float64Array(size);
    into.counts = new Float64Array(size);
    into.cumulative = new Float64Array(size);
  }
  const { values, counts, cumulative } = into;
  // Locals, not property loads per step: the walk runs over the whole reference at every window.
  const fromValues = from.values;
  const fromCounts = from.counts;
  const removedValues = removed.values;
  const removedCounts = removed.counts;
  const addedValues = added.values;
  const addedCounts = added.counts;
  let i = 0;
  let j = 0;
  let k = 0;
  let out = 0;
  let running = 0;
  while (i < n || k < m) {
    const x = i < n ? fromValues[i]! : Number.POSITIVE_INFINITY;
    const y = k < m ? addedValues[k]! : Number.POSITIVE_INFINITY;
    let v: number;
    let c: number;
    if (x <= y) {
      v = x;
      c = fromCounts[i++]!;
      if (j < r) {
        const gone = removedValues[j]!;
        if (gone < v) return undefined;
        if (gone === v) {
          const removedCount = removedCounts[j++]!;
          if (!Number.isInteger(c) || !Number.isInteger(removedCount) || removedCount > c) return undefined;
          c -= removedCount;
        }
      }
      if (x === y) c += addedCounts[k++]!;
    } else {
      v = y;
      c = addedCounts[k++]!;
    }
    if (c === 0) continue;
    values[out] = v;
    counts[out] = c;
    cumulative[out++] = running += c;
  }
  if (j < r) return undefined;
  return { values: values.subarray(0, out), counts: counts.subarray(0, out), cumulative: cumulative.subarray(0, out) };
}

/** counts' running sums in value order (a sample's cumulative weights). */
export function runningSums(counts: Float64Array): Float64Array {
  const cumulative = new Float64Array(counts.length);
  let running = 0;
  for (let i = 0; i < counts.length; i++) cumulative[i] = running += counts[i]!;
  return cumulative;
}
