/**
 * The read-only view of a window the drift tests score: a numerical sample as its distinct values in
 * ascending order with their weights (counts), or a categorical sample as counts per category.
 * Exact windows give exact counts; a sketched window gives each sketch bin's representative value
 * with its count (see window.ts for the error that adds).
 */
export type FeatureType = 'numerical' | 'categorical';

export interface NumericSample {
  readonly kind: 'numerical';
  /** Distinct values, ascending. */
  readonly values: Float64Array;
  /** cumulativeWeights[i] = how many values are <= values[i]. */
  readonly cumulativeWeights: Float64Array;
  readonly total: number;
  readonly distinct: number;
  readonly min: number;
  readonly max: number;
  /** Every value is an integer: pandas would read the column as int64, which changes numpy's bins. */
  readonly integral: boolean;
  /** The same weights as a count per whole value, when the sample is kept that way (a trailing union: counts-union.ts). */
  readonly slots?: SlotCounts | undefined;
}

/** counts[v - base]: the weight of whole value v (0: not held). */
export interface SlotCounts {
  readonly counts: Int32Array;
  readonly base: number;
}

export interface CategoricalSample {
  readonly kind: 'categorical';
  readonly counts: ReadonlyMap<string, number>;
  readonly total: number;
  readonly distinct: number;
}

export type DriftSample = NumericSample | CategoricalSample;

/** A numerical sample from ascending distinct values and their running counts. */
export function weightedNumericSample(values: readonly number[], cumulative: readonly number[], integral: boolean): NumericSample {
  return typedNumericSample(Float64Array.from(values), Float64Array.from(cumulative), integral);
}

/** The same, from arrays the sample may keep. */
export function typedNumericSample(values: Float64Array, cumulative: Float64Array, integral: boolean): NumericSample {
  return {
    kind: 'numerical',
    values,
    cumulativeWeights: cumulative,
    total: cumulative.length === 0 ? 0 : cumulative[cumulative.length - 1]!,
    distinct: values.length,
    min: values.length === 0 ? Number.NaN : values[0]!,
    max: values.length === 0 ? Number.NaN : values[values.length - 1]!,
    integral,
  };
}

export function categoricalSample(counts: ReadonlyMap<string, number>): CategoricalSample {
  let total = 0;
  for (const c of counts.values()) total += c;
  return { kind: 'categorical', counts, total, distinct: counts.size };
}

/** pandas' value_counts: weight per distinct value. */
export function valueCounts(sample: DriftSample): Map<string | number, number> {
  if (sample.kind === 'categorical') return new Map(sample.counts);
  const counts = new Map<string | number, number>();
  let previous = 0;
  const { values, cumulativeWeights } = sample;
  for (let i = 0; i < values.length; i++) {
    const c = cumulativeWeights[i]!;
    counts.set(values[i]!, c - previous);
    previous = c;
  }
  return counts;
}

/**
 * Number of distinct values in reference ∪ current (pandas' nunique of the concatenation), or any
 * number >= `upTo` once that many are seen: the method choice only asks whether there are more than
 * 2 or 5, and a whole walk over the reference cost that at every window.
 */
export function distinctInUnion(reference: DriftSample, current: DriftSample, upTo = Number.POSITIVE_INFINITY): number {
  // Either alone has that many: a union kept as counts per value is then never laid out for it.
  if (reference.distinct >= upTo || current.distinct >= upTo) return Math.max(reference.distinct, current.distinct);
  if (reference.kind === 'numerical' && current.kind === 'numerical') return distinctInSortedUnion(reference.values, current.values, upTo);
  const keys = new Set<string | number>(valueCounts(reference).keys());
  for (const key of valueCounts(current).keys()) keys.add(key);
  return keys.size;
}

/** Distinct values of two ascending, duplicate-free arrays together: one merge walk, no maps (it runs every window). */
function distinctInSortedUnion(a: Float64Array, b: Float64Array, upTo: number): number {
  let i = 0;
  let j = 0;
  let distinct = 0;
  while (i < a.length && j < b.length && distinct < upTo) {
    const x = a[i]!;
    const y = b[j]!;
    if (x <= y) i++;
    if (y <= x) j++;
    distinct++;
  }
  return distinct + (a.length - i) + (b.length - j);
}
