import { describe, expect, it } from 'vitest';
import { CountsUnion } from '../../../src/operators/drift/counts-union.ts';
import { ksTwoSample, latticeStatistic } from '../../../src/operators/drift/ks.ts';
import { typedNumericSample, type NumericSample } from '../../../src/operators/drift/sample.ts';
import { mergeSorted, runningSums, sortedRuns, type SortedCounts } from '../../../src/operators/drift/sorted-counts.ts';
import { UnionSlider } from '../../../src/operators/drift/union-slider.ts';
import { seededRandom } from '../../support/seeded-random.ts';

const sortedOf = (values: number[], weights: number[] | null = null): SortedCounts => sortedRuns(values, weights);
const sampleOf = (s: SortedCounts): NumericSample => typedNumericSample(s.values, runningSums(s.counts), true);
/** A sample's fields as plain data (a union's sample lays its sorted form out on first read). */
const plain = (s: NumericSample) => ({
  values: Array.from(s.values), cumulative: Array.from(s.cumulativeWeights), total: s.total, distinct: s.distinct, min: s.min, max: s.max, integral: s.integral,
});
const afresh = (windows: SortedCounts[]): SortedCounts => windows.reduce((a, b) => mergeSorted(a, b));
/** A window's default maxExactValues: past it, a merged union is a sketch. */
const EXACT = 10_000;
const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));

/**
 * A trailing union of `count` windows slid window after window as counts per value, against the
 * union merged afresh: the same sample (bit for bit: toEqual compares doubles with Object.is), and
 * the same K-S statistic and p-value against the next window as the sorted walk gives. Returns the
 * slides made before a refusal.
 */
function slideAgainstMerge(windows: SortedCounts[], count: number): number {
  const union = CountsUnion.of(windows.slice(0, count), EXACT);
  expect(union).toBeDefined();
  let slides = 0;
  for (let w = count; w < windows.length; w++) {
    const expected = sampleOf(afresh(windows.slice(w - count, w)));
    const current = sampleOf(windows[w]!);
    const got = union!.sample();
    const g = gcd(expected.total, current.total);
    expect(latticeStatistic(got, current, g)).toBe(latticeStatistic(expected, current, g));
    expect(latticeStatistic(current, got, g)).toBe(latticeStatistic(expected, current, g));
    expect(ksTwoSample(got, current)).toEqual(ksTwoSample(expected, current));
    expect(plain(got)).toEqual(plain(expected));
    if (!union!.slide(windows[w - count]!, windows[w]!)) return slides;
    slides++;
  }
  return slides;
}

describe('CountsUnion', () => {
  const random = seededRandom(23);
  const window = (size: number, value: () => number) => sortedOf(Array.from({ length: size }, value));

  it('slides whole values in a narrow span as the union merged afresh, and scores K-S off its slots alike', () => {
    const tokens = Array.from({ length: 40 }, () => window(100, () => Math.round(40 + 800 * random() * random())));
    expect(slideAgainstMerge(tokens, 6)).toBe(34);
    // Few values, each many times (counts that drop to zero and come back).
    const few = Array.from({ length: 30 }, () => window(60, () => Math.floor(5 * random())));
    expect(slideAgainstMerge(few, 2)).toBe(28);
    // Negative values; a current window below, above and beside the union.
    const shifted = Array.from({ length: 20 }, (_, w) => window(50, () => Math.round((w % 3) * 60 + 100 * random()) - 600));
    expect(slideAgainstMerge(shifted, 3)).toBeGreaterThan(0);
  });

  it('refuses a slide past its room, and is built afresh over the new span', () => {
    const low = Array.from({ length: 3 }, () => window(50, () => Math.round(100 * random())));
    const union = CountsUnion.of(low, EXACT)!;
    const high = window(50, () => 200 + Math.round(100 * random()));
    expect(union.slide(low[0]!, high)).toBe(false);
    const windows = [low[1]!, low[2]!, high, window(50, () => Math.round(300 * random())), window(50, () => Math.round(300 * random()))];
    expect(slideAgainstMerge(windows, 3)).toBe(2);
  });

  it('is not built for wide spans, fractional values or counts, nor slides a removal it cannot make exactly', () => {
    expect(CountsUnion.of([window(30, () => Math.round(1e6 * random()))], EXACT)).toBeUndefined();
    expect(CountsUnion.of([sortedOf([1, 2.5, 3])], EXACT)).toBeUndefined();
    expect(CountsUnion.of([sortedOf([1, 2, 3], [1, 0.5, 2])], EXACT)).toBeUndefined();
    expect(CountsUnion.of([], EXACT)).toBeUndefined();
    // A removed value not held, or held fewer times; an added fractional value.
    expect(CountsUnion.of([sortedOf([1, 2])], EXACT)!.slide(sortedOf([7]), sortedOf([1]))).toBe(false);
    expect(CountsUnion.of([sortedOf([1, 1, 2])], EXACT)!.slide(sortedOf([1, 1, 1]), sortedOf([3]))).toBe(false);
    expect(CountsUnion.of([sortedOf([1, 1, 2])], EXACT)!.slide(sortedOf([1]), sortedOf([1.5]))).toBe(false);
    const union = CountsUnion.of([sortedOf([1, 1, 2])], EXACT)!;
    expect(union.slide(sortedOf([1]), sortedOf([3]))).toBe(true);
    expect(plain(union.sample())).toEqual(plain(sampleOf(sortedOf([1, 2, 3]))));
    expect(union.size).toBe(3);
  });

  it('is not built where the merged union would not be exact whole values: a fraction shared by every value, more distinct values than maxExactValues', () => {
    // 0.1 + 1 - 0.1 is 1: with a fractional base the slots would look whole (a review found it).
    expect(CountsUnion.of([sortedOf([0.1, 1.1, 2.1, 5.1, 7.1]), sortedOf([0.1, 1.1])], EXACT)).toBeUndefined();
    expect(CountsUnion.of([sortedOf([1, 2, 3]), sortedOf([3, 4])], 3)).toBeUndefined();
    // Within its span (1 to 20, and room), a slide past 4 distinct values is refused.
    const union = CountsUnion.of([sortedOf([1, 2, 3]), sortedOf([20])], 4)!;
    expect(union.slide(sortedOf([1, 2, 3]), sortedOf([5, 6, 7]))).toBe(true);
    expect(union.slide(sortedOf([20]), sortedOf([8, 9]))).toBe(false);
  });

  it('leaves a current window with a fractional value to the sorted walk, which gives the same statistic', () => {
    const union = CountsUnion.of([sortedOf([1, 2, 2, 5, 9])], EXACT)!;
    const current = sampleOf(sortedOf([2, 2.5, 7]));
    expect(latticeStatistic(union.sample(), current, 1)).toBe(latticeStatistic(sampleOf(sortedOf([1, 2, 2, 5, 9])), current, 1));
  });
});

describe('UnionSlider (the sorted walk: fractional values, wide spans)', () => {
  const random = seededRandom(29);
  const window = (size: number, value: () => number) => sortedOf(Array.from({ length: size }, value));
  for (const [name, value] of [['wide', () => Math.round(1e6 * random())], ['fractional', () => 100 * random()]] as const) {
    it(`slides ${name} values as the union merged afresh`, () => {
      const windows = Array.from({ length: 12 }, () => window(30, value));
      const slider = new UnionSlider();
      let union: SortedCounts = afresh(windows.slice(0, 4));
      for (let w = 4; w < windows.length; w++) {
        const next = slider.slide(union, windows[w - 4]!, windows[w]!)!;
        const expected = afresh(windows.slice(w - 3, w + 1));
        expect(Array.from(next.values)).toEqual(Array.from(expected.values));
        expect(Array.from(next.counts)).toEqual(Array.from(expected.counts));
        expect(Array.from(next.cumulative)).toEqual(Array.from(runningSums(expected.counts)));
        union = next;
      }
    });
  }

  it('refuses a removal it cannot make exactly', () => {
    const slider = new UnionSlider();
    const union = mergeSorted(sortedOf([1, 2, 3], [1, 0.5, 2]), sortedOf([2, 4]));
    expect(slider.slide(union, sortedOf([2, 4]), sortedOf([1, 5]))).toBeUndefined();
    expect(slider.slide(sortedOf([1, 2]), sortedOf([7]), sortedOf([1]))).toBeUndefined();
  });
});
