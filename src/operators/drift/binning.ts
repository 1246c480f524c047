/**
 * Evidently's `get_binned_data` (legacy/calculations/stattests/utils.py), value for value: the shares
 * of reference and current per bin, where a bin is a Sturges histogram bin over reference ∪ current
 * when the feature is numerical and the reference has more than 20 distinct values, and a distinct
 * value otherwise. PSI fills empty bins; Jensen–Shannon does not.
 */
import type { DriftSample, NumericSample } from './sample.ts';
import { valueCounts } from './sample.ts';

/** Above this many distinct reference values a numerical feature is binned, not counted. */
export const MAX_DISTINCT_FOR_VALUE_COUNTS = 20;

export interface BinnedShares {
  readonly reference: Float64Array;
  readonly current: Float64Array;
}

export function binnedShares(reference: DriftSample, current: DriftSample, fillEmpty: boolean): BinnedShares {
  const shares = reference.kind === 'numerical' && current.kind === 'numerical' && reference.distinct > MAX_DISTINCT_FOR_VALUE_COUNTS
    ? histogramShares(reference, current)
    : countShares(reference, current);
  if (fillEmpty) {
    fillEmptyBins(shares.reference);
    fillEmptyBins(shares.current);
  }
  return shares;
}

function countShares(reference: DriftSample, current: DriftSample): BinnedShares {
  const refCounts = valueCounts(reference);
  const curCounts = valueCounts(current);
  const keys = new Set<string | number>(refCounts.keys());
  for (const key of curCounts.keys()) keys.add(key);
  const ref = new Float64Array(keys.size);
  const cur = new Float64Array(keys.size);
  let i = 0;
  for (const key of keys) {
    ref[i] = (refCounts.get(key) ?? 0) / reference.total;
    cur[i] = (curCounts.get(key) ?? 0) / current.total;
    i++;
  }
  return { reference: ref, current: cur };
}

function histogramShares(reference: NumericSample, current: NumericSample): BinnedShares {
  const edges = sturgesEdges(reference, current);
  return { reference: histogram(reference, edges), current: histogram(current, edges) };
}

/**
 * numpy.histogram_bin_edges(reference ∪ current, 'sturges'): width = ptp / (log2(n) + 1) (at least 1
 * for an integer column), ceil(range / width) equal bins, edges from numpy's linspace.
 */
export function sturgesEdges(reference: NumericSample, current: NumericSample): Float64Array {
  const size = reference.total + current.total;
  const min = Math.min(reference.min, current.min);
  const max = Math.max(reference.max, current.max);
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  let bins = 1;
  let width = (max - min) / (Math.log2(size) + 1);
  if (width !== 0) {
    if (reference.integral && current.integral && width < 1) width = 1;
    bins = Math.ceil((last - first) / width);
  }
  return linspace(first, last, bins + 1);
}

/** numpy.linspace(start, stop, num, endpoint=True) for float64, including its last-edge pin. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const edges = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  for (let i = 0; i < num; i++) edges[i] = (step === 0 ? (i / div) * delta : i * step) + start;
  edges[num - 1] = stop;
  return edges;
}

/**
 * numpy.histogram(values, edges) / len(values): bin i holds edges[i] <= v < edges[i+1], the last bin
 * also holds v == edges[last].
 */
function histogram(sample: NumericSample, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const shares = new Float64Array(bins);
  let below = countBelow(sample, edges[0]!, false);
  for (let i = 0; i < bins; i++) {
    const upTo = countBelow(sample, edges[i + 1]!, i === bins - 1);
    shares[i] = (upTo - below) / sample.total;
    below = upTo;
  }
  return shares;
}

/** Weight of values < edge (or <= edge when inclusive): numpy's searchsorted left/right. */
function countBelow(sample: NumericSample, edge: number, inclusive: boolean): number {
  const { values, cumulativeWeights } = sample;
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = values[mid]!;
    if (v < edge || (inclusive && v === edge)) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : cumulativeWeights[lo - 1]!;
}

/** Evidently's zero fill: 0.0001, or the smallest non-zero share / 10^6 when that is <= 0.0001. */
function fillEmptyBins(shares: Float64Array): void {
  let smallest = Number.POSITIVE_INFINITY;
  for (const s of shares) if (s !== 0 && s < smallest) smallest = s;
  const fill = smallest <= 0.0001 ? smallest / 10 ** 6 : 0.0001;
  for (let i = 0; i < shares.length; i++) if (shares[i] === 0) shares[i] = fill;
}
