/**
 * scipy.stats.ks_2samp(reference, current), two-sided, method 'auto' (scipy 1.17): the exact
 * p-value when both samples have at most 10000 values, else kstwo.sf(d, round(n1 n2 / (n1 + n2))).
 * The exact path follows scipy's `_attempt_exact_2kssamp`: the statistic is rounded to a multiple
 * of 1/lcm(n1, n2), equal sizes use the closed form outside the square, unequal sizes Hodges' inside
 * method in Viehmann's 1 - p recursion; a result outside [0, 1] falls back to the asymptotic form.
 */
import { kolmogorovTwoSidedSurvival } from './kolmogorov.ts';
import type { NumericSample, SlotCounts } from './sample.ts';

const MAX_EXACT_N = 10_000;

export interface KsResult {
  readonly statistic: number;
  readonly pValue: number;
}

export function ksTwoSample(a: NumericSample, b: NumericSample): KsResult {
  const n1 = a.total;
  const n2 = b.total;
  if (n1 === 0 || n2 === 0) return { statistic: Number.NaN, pValue: Number.NaN };
  let d = Number.NaN;
  let p = Number.NaN;
  let exactDone = false;
  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = latticeStatistic(a, b, g) ?? Math.round(ksStatistic(a, b) * lcm);
    d = h / lcm;
    if (h === 0) {
      p = 1;
      exactDone = true;
    } else {
      p = n1 === n2 ? probOutsideSquare(n1, h) : cachedOuterProbInside(n1, n2, g, h);
      exactDone = Number.isFinite(p) && p >= 0 && p <= 1;
    }
  }
  if (!exactDone) {
    if (Number.isNaN(d)) d = ksStatistic(a, b);
    const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
    const en = (m * n) / (m + n);
    p = kolmogorovTwoSidedSurvival(roundHalfEven(en), d);
  }
  return { statistic: d, pValue: Math.min(1, Math.max(0, p)) };
}

/** max |F_a - F_b| over the pooled values, with scipy's tie-break (minS only when strictly larger). */
function ksStatistic(a: NumericSample, b: NumericSample): number {
  let maxS = Number.NEGATIVE_INFINITY;
  let minDiff = Number.POSITIVE_INFINITY;
  const { values: av, cumulativeWeights: ac, total: aTotal } = a;
  const { values: bv, cumulativeWeights: bc, total: bTotal } = b;
  let i = 0;
  let j = 0;
  while (i < av.length || j < bv.length) {
    const va = i < av.length ? av[i]! : Number.POSITIVE_INFINITY;
    const vb = j < bv.length ? bv[j]! : Number.POSITIVE_INFINITY;
    const v = Math.min(va, vb);
    if (va === v) i++;
    if (vb === v) j++;
    const diff = (i === 0 ? 0 : ac[i - 1]!) / aTotal - (j === 0 ? 0 : bc[j - 1]!) / bTotal;
    if (diff > maxS) maxS = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(1, Math.max(0, -minDiff));
  return minS > maxS ? minS : maxS;
}

/**
 * The exact path's statistic as a whole number of 1/lcm steps: max |F_a - F_b| · lcm, where
 * F_a - F_b = (i n2 - j n1) / (n1 n2) and n1 n2 = g · lcm, so each difference is (i n2 - j n1) / g
 * steps, an integer. scipy rounds d · lcm to the nearest integer; d's float error moves d · lcm by
 * ~1e-8 at most (lcm <= 1e8), so that is this integer. Undefined when a count is fractional (the
 * float walk then decides).
 *
 * Not a walk over every pooled value but one stop per distinct value of the sample with fewer
 * (`few`; the other is `many`, the trailing reference's ~340 against the window's ~90): between
 * two of few's values F_few stays put and F_many only rises, so the largest F_many - F_few there
 * is just below the next value of few, and the largest F_few - F_many at the value of few itself.
 * Past few's last value F_few = 1 and the difference is only smaller. The gallop through many
 * (`while (mv[p] < c) p++`) mispredicts once per stop where the merge walk did at most steps; the
 * result is the same integer (ks-lattice.test.ts compares it with the walk on ties and weights).
 */
export function latticeStatistic(a: NumericSample, b: NumericSample, g: number): number | undefined {
  const bySlots = a.slots !== undefined ? slotLatticeStatistic(a.slots, a.total, b, g) : b.slots !== undefined ? slotLatticeStatistic(b.slots, b.total, a, g) : undefined;
  if (bySlots !== undefined) return bySlots;
  const aFewer = a.values.length <= b.values.length;
  const few = aFewer ? a : b;
  const many = aFewer ? b : a;
  const nFew = few.total;
  const nMany = many.total;
  const fv = few.values;
  const fc = few.cumulativeWeights;
  const mv = many.values;
  const mc = many.cumulativeWeights;
  const nm = mv.length;
  let p = 0;
  let previousFew = 0;
  let best = 0;
  for (let k = 0; k < fv.length; k++) {
    const c = fv[k]!;
    while (p < nm && mv[p]! < c) p++;
    const below = p === 0 ? 0 : mc[p - 1]!;
    const atOrBelow = p < nm && mv[p] === c ? mc[p]! : below;
    const atFew = fc[k]!;
    best = widest(best, below, atOrBelow, previousFew, atFew, nFew, nMany);
    previousFew = atFew;
  }
  return inSteps(best, g, nFew, nMany);
}

/**
 * The larger of `best` and the two differences at a stop c of the sample with fewer values, in
 * units of 1/(n1 n2): many's share just below c over few's before it, and few's at c over many's.
 */
function widest(best: number, below: number, atOrBelow: number, previousFew: number, atFew: number, nFew: number, nMany: number): number {
  const up = below * nFew - previousFew * nMany;
  const down = atFew * nMany - atOrBelow * nFew;
  return up > best ? (down > up ? down : up) : down > best ? down : best;
}

/** The largest difference as a whole number of 1/lcm steps; undefined when a count is fractional. */
function inSteps(best: number, g: number, nFew: number, nMany: number): number | undefined {
  const steps = best / g;
  return Number.isInteger(steps) && Number.isInteger(nFew) && Number.isInteger(nMany) ? steps : undefined;
}

/**
 * latticeStatistic against a sample kept as counts per whole value (a trailing union), stopping at
 * `other`'s values: its running counts below and at each are summed off the slots in one pass (a
 * branch-free add per slot, no sorted form of the union laid out). Undefined where `other` holds
 * a value that is not whole (the walk over the sorted forms then decides).
 */
function slotLatticeStatistic({ counts, base }: SlotCounts, nSlots: number, other: NumericSample, g: number): number | undefined {
  const { values: ov, cumulativeWeights: oc, total: nOther } = other;
  const len = counts.length;
  let s = 0;
  let below = 0;
  let previousOther = 0;
  let best = 0;
  for (let k = 0; k < ov.length; k++) {
    const slot = ov[k]! - base;
    if (!Number.isInteger(slot)) return undefined;
    const end = slot < 0 ? 0 : slot > len ? len : slot;
    while (s < end) below = (below + counts[s++]!) | 0; // int32 adds: the union's total is under 2^31
    const atOrBelow = slot >= 0 && slot < len ? below + counts[slot]! : below;
    // As latticeStatistic, with `other` the sample it stops at.
    best = widest(best, below, atOrBelow, previousOther, oc[k]!, nOther, nSlots);
    previousOther = oc[k]!;
  }
  return inSteps(best, g, nOther, nSlots);
}

/** scipy `_compute_prob_outside_square`: P(D_{n,n} >= h/n), Horner form of the alternating sum. */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * Exact p-values already computed, by (n1, n2, h): the p-value is a function of those three alone,
 * and they repeat wherever windows hold the same counts (telemetry sampled at a fixed interval, or
 * scores-bench's 100 values per window against 600: 90 distinct triples in 1,780 windows). A hit
 * returns the very double a fresh computation gives, so a replay emits the same bits whatever the
 * cache held. Bounded; the oldest entry goes first.
 */
const exactCache = new Map<string, number>();
const EXACT_CACHE_ENTRIES = 4096;

function cachedOuterProbInside(n1: number, n2: number, g: number, h: number): number {
  const key = `${n1} ${n2} ${h}`;
  const known = exactCache.get(key);
  if (known !== undefined) return known;
  const p = outerProbInsideMethod(n1, n2, g, h);
  if (exactCache.size >= EXACT_CACHE_ENTRIES) exactCache.delete(exactCache.keys().next().value!);
  exactCache.set(key, p);
  return p;
}

/** The recursion's column, kept and grown: one allocation per process instead of one per window. */
let column = new Float64Array(64);

/**
 * scipy `_compute_outer_prob_inside_method`: the share of lattice paths from (0,0) to (m,n) that leave
 * the band |x/m - y/n| < h/lcm, computed as 1 - p column by column over a sliding window.
 * scipy's cell is val = (A[j] i + val j) / (i + j): one dependency chain through val of a multiply,
 * an add and a division per cell, whose latency was most of the drift metric's scoring (≈ 2 d·m·n
 * cells; 600 vs 100 values at d = 0.1 is 11 000). Here the cell is the affine step
 * val = c + b val with c = A[j] i/(i+j) and b = j/(i+j) (1/k from a table), and two steps are
 * composed into one, so the chain carries one multiply and one add per two cells while the rest
 * runs beside it (37 → 31 µs per call at 600 vs 100). The result moves by a few ulps per column,
 * ~1e-15 relative over thousands of columns, far inside Evidently's fixtures' 1e-6.
 */
function outerProbInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const m = m0 >= n0 ? m0 : n0;
  const n = m0 >= n0 ? n0 : m0;
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const inverse = reciprocals(m + n);
  if (column.length < lenA) column = new Float64Array(Math.max(lenA, 2 * column.length));
  // A view of lenA cells, as scipy's array: a read past it gives NaN (then the asymptotic p-value), never an old call's cell.
  const A = column.subarray(0, lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    const shift = minj - lastminj;
    const len = maxj - minj;
    let jj = 0;
    for (; jj + 1 < len; jj += 2) {
      const j = jj + minj;
      const r1 = inverse[i + j]!;
      const r2 = inverse[i + j + 1]!;
      const c1 = A[jj + shift]! * i * r1;
      const b1 = j * r1;
      const c2 = A[jj + shift + 1]! * i * r2;
      const b2 = (j + 1) * r2;
      A[jj] = c1 + b1 * val;
      val = c2 + b2 * c1 + b2 * b1 * val;
      A[jj + 1] = val;
    }
    if (jj < len) {
      const j = jj + minj;
      const r = inverse[i + j]!;
      val = A[jj + shift]! * i * r + j * r * val;
      A[jj] = val;
    }
    curlen = len;
    if (lastlen > curlen) A.fill(1, len, len + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

/** 1/k for k = 0 … upTo (entry 0 unused), kept and grown: the same sizes recur window after window. */
let reciprocalTable = new Float64Array(0);

function reciprocals(upTo: number): Float64Array {
  if (reciprocalTable.length <= upTo) {
    const table = new Float64Array(Math.max(upTo + 1, 2 * reciprocalTable.length));
    for (let k = 1; k < table.length; k++) table[k] = 1 / k;
    reciprocalTable = table;
  }
  return reciprocalTable;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/** numpy.round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
