/**
 * Evidently 0.7.23's stat tests (legacy/calculations/stattests/), each with its default threshold and
 * its own verdict rule: distances detect drift at score >= threshold, K-S at p <= threshold,
 * chi-square and z at p < threshold.
 */
import { binnedShares } from './binning.ts';
import { ksTwoSample } from './ks.ts';
import type { DriftSample, FeatureType, NumericSample } from './sample.ts';
import { distinctInUnion, valueCounts } from './sample.ts';
import { chiSquareSurvival, normalCdf } from './special-functions.ts';

export const DRIFT_METHODS = ['psi', 'jensenshannon', 'wasserstein', 'ks', 'chisquare', 'z'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

export interface DriftMethodSpec {
  readonly name: DriftMethod;
  /** What Evidently calls the score in its reports. */
  readonly displayName: string;
  readonly featureTypes: readonly FeatureType[];
  readonly defaultThreshold: number;
  readonly isDrift: (score: number, threshold: number) => boolean;
  readonly score: (reference: DriftSample, current: DriftSample) => number;
}

const atOrAbove = (score: number, threshold: number): boolean => score >= threshold;
const atOrBelow = (p: number, threshold: number): boolean => p <= threshold;
const below = (p: number, threshold: number): boolean => p < threshold;

export const DRIFT_METHOD_SPECS: Readonly<Record<DriftMethod, DriftMethodSpec>> = {
  psi: { name: 'psi', displayName: 'PSI', featureTypes: ['numerical', 'categorical'], defaultThreshold: 0.1, isDrift: atOrAbove, score: psi },
  jensenshannon: {
    name: 'jensenshannon', displayName: 'Jensen-Shannon distance', featureTypes: ['numerical', 'categorical'],
    defaultThreshold: 0.1, isDrift: atOrAbove, score: jensenShannon,
  },
  wasserstein: {
    name: 'wasserstein', displayName: 'Wasserstein distance (normed)', featureTypes: ['numerical'], defaultThreshold: 0.1,
    isDrift: atOrAbove, score: (r, c) => wassersteinNormed(numeric(r), numeric(c)),
  },
  ks: {
    name: 'ks', displayName: 'K-S p_value', featureTypes: ['numerical'], defaultThreshold: 0.05,
    isDrift: atOrBelow, score: (r, c) => ksTwoSample(numeric(r), numeric(c)).pValue,
  },
  // Evidently registers chi-square and z for categorical features, yet picks them by default for
  // numerical ones with at most 5 distinct values; both run on value counts, so both types work.
  chisquare: {
    name: 'chisquare', displayName: 'chi-square p_value', featureTypes: ['numerical', 'categorical'], defaultThreshold: 0.05,
    isDrift: below, score: chiSquarePValue,
  },
  z: { name: 'z', displayName: 'Z-test p_value', featureTypes: ['numerical', 'categorical'], defaultThreshold: 0.05, isDrift: below, score: zTestPValue },
};

function numeric(sample: DriftSample): NumericSample {
  if (sample.kind !== 'numerical') throw new TypeError('this drift method needs a numerical feature');
  return sample;
}

/** Σ (r - c) ln(r / c) over bins, empty bins filled. */
function psi(reference: DriftSample, current: DriftSample): number {
  const { reference: r, current: c } = binnedShares(reference, current, true);
  let sum = 0;
  for (let i = 0; i < r.length; i++) sum += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return sum;
}

/** scipy.spatial.distance.jensenshannon(r, c) with the natural logarithm; empty bins stay empty. */
function jensenShannon(reference: DriftSample, current: DriftSample): number {
  const { reference: r, current: c } = binnedShares(reference, current, false);
  const rSum = sum(r);
  const cSum = sum(c);
  let left = 0;
  let right = 0;
  for (let i = 0; i < r.length; i++) {
    const p = r[i]! / rSum;
    const q = c[i]! / cSum;
    const m = (p + q) / 2;
    left += relativeEntropy(p, m);
    right += relativeEntropy(q, m);
  }
  return Math.sqrt((left + right) / 2);
}

/** scipy.special.rel_entr. */
function relativeEntropy(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

function sum(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** scipy.stats.wasserstein_distance(r, c) / max(np.std(r), 0.001). */
function wassersteinNormed(reference: NumericSample, current: NumericSample): number {
  return wassersteinDistance(reference, current) / Math.max(standardDeviation(reference), 0.001);
}

/** ∫ |F_r - F_c| dx, evaluated between consecutive pooled values as scipy's `_cdf_distance` does. */
function wassersteinDistance(a: NumericSample, b: NumericSample): number {
  // Locals, read once: a trailing union's sample lays its arrays out behind getters.
  const { values: av, cumulativeWeights: ac, total: aTotal } = a;
  const { values: bv, cumulativeWeights: bc, total: bTotal } = b;
  let i = 0;
  let j = 0;
  let previous = Number.NaN;
  let previousGap = 0;
  let total = 0;
  while (i < av.length || j < bv.length) {
    const va = i < av.length ? av[i]! : Number.POSITIVE_INFINITY;
    const vb = j < bv.length ? bv[j]! : Number.POSITIVE_INFINITY;
    const v = Math.min(va, vb);
    if (!Number.isNaN(previous)) total += previousGap * (v - previous);
    if (va === v) i++;
    if (vb === v) j++;
    const fa = (i === 0 ? 0 : ac[i - 1]!) / aTotal;
    const fb = (j === 0 ? 0 : bc[j - 1]!) / bTotal;
    previousGap = Math.abs(fa - fb);
    previous = v;
  }
  return total;
}

/** np.std (population, ddof 0). */
function standardDeviation(sample: NumericSample): number {
  const { values, cumulativeWeights: cumulative, total } = sample;
  let mean = 0;
  let previous = 0;
  for (let i = 0; i < values.length; i++) {
    const c = cumulative[i]!;
    mean += values[i]! * (c - previous);
    previous = c;
  }
  mean /= total;
  let squares = 0;
  previous = 0;
  for (let i = 0; i < values.length; i++) {
    const c = cumulative[i]!;
    const d = values[i]! - mean;
    squares += d * d * (c - previous);
    previous = c;
  }
  return Math.sqrt(squares / total);
}

/**
 * scipy.stats.chisquare(current counts, reference counts scaled to the current size) over the union
 * of values; a value the reference never saw makes the statistic infinite and p = 0.
 */
function chiSquarePValue(reference: DriftSample, current: DriftSample): number {
  const refCounts = valueCounts(reference);
  const curCounts = valueCounts(current);
  const keys = new Set<string | number>(refCounts.keys());
  for (const key of curCounts.keys()) keys.add(key);
  const scale = current.total / reference.total;
  let statistic = 0;
  for (const key of keys) {
    const expected = (refCounts.get(key) ?? 0) * scale;
    const observed = curCounts.get(key) ?? 0;
    statistic += ((observed - expected) ** 2) / expected;
  }
  return chiSquareSurvival(statistic, keys.size - 1);
}

/**
 * Evidently's two-proportion z-test: the smallest value (Python's sort order) against all others;
 * p = 1 when both samples hold the same single value.
 */
function zTestPValue(reference: DriftSample, current: DriftSample): number {
  const refCounts = valueCounts(reference);
  const curCounts = valueCounts(current);
  if (refCounts.size === 1 && curCounts.size === 1 && refCounts.keys().next().value === curCounts.keys().next().value) return 1;
  const keys = [...new Set([...refCounts.keys(), ...curCounts.keys()])].sort(pythonOrder);
  const first = keys[0]!;
  const n1 = reference.total;
  const n2 = current.total;
  const p1 = (n1 - (refCounts.get(first) ?? 0)) / n1;
  const p2 = (n2 - (curCounts.get(first) ?? 0)) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return 2 * (1 - normalCdf(Math.abs(z)));
}

/** Python's sorted(): numbers numerically, strings by code point. */
function pythonOrder(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Evidently's `_get_default_stattest`: up to 1000 reference values, K-S for numerical features
 * (chi-square with 3-5 distinct values, z with at most 2) and chi-square (z) for categorical ones;
 * above 1000, Wasserstein for numerical (Jensen–Shannon with at most 5 distinct values) and
 * Jensen–Shannon for categorical.
 */
export function defaultDriftMethod(reference: DriftSample, current: DriftSample, featureType: FeatureType): DriftMethod {
  const distinct = distinctInUnion(reference, current, 6);
  if (reference.total <= 1000) {
    if (featureType === 'numerical' && distinct > 5) return 'ks';
    return distinct > 2 ? 'chisquare' : 'z';
  }
  if (featureType === 'numerical') return distinct <= 5 ? 'jensenshannon' : 'wasserstein';
  return 'jensenshannon';
}
