import { describe, expect, it } from 'vitest';
import { mergeSorted, slideBuffers, slideSorted, sortedRuns, type SortedCounts } from '../../../src/operators/drift/sorted-counts.ts';
import { UnionSlider } from '../../../src/operators/drift/union-slider.ts';
import { seededRandom } from '../../support/seeded-random.ts';

const sortedOf = (values: number[], weights: number[] | null = null): SortedCounts => sortedRuns(values, weights);
const plain = (s: { values: Float64Array; counts: Float64Array; cumulative?: Float64Array | undefined }) => ({
  values: Array.from(s.values),
  counts: Array.from(s.counts),
  cumulative: s.cumulative === undefined ? undefined : Array.from(s.cumulative),
});

/**
 * A trailing union of `count` windows slid window after window by the slider and by the merge
 * walk alone: the same values, counts and running sums at every window (bit for bit: toEqual
 * compares doubles with Object.is). Returns the slides made.
 */
function slideBoth(windows: SortedCounts[], count: number, integral: boolean): number {
  const slider = new UnionSlider();
  let union = windows.slice(0, count).reduce((a, b) => mergeSorted(a, b));
  let walked: SortedCounts = union;
  let slides = 0;
  for (let w = count; w < windows.length; w++) {
    const removed = windows[w - count]!;
    const added = windows[w]!;
    const next = slider.slide(union, removed, added, integral);
    const expected = slideSorted(walked, removed, added, slideBuffers());
    expect(next === undefined).toBe(expected === undefined);
    if (next === undefined || expected === undefined) return slides;
    expect(plain(next)).toEqual(plain(expected));
    union = next;
    walked = { values: expected.values.slice(), counts: expected.counts.slice() };
    slides++;
  }
  return slides;
}

describe('UnionSlider', () => {
  const random = seededRandom(23);
  const window = (size: number, value: () => number) => sortedOf(Array.from({ length: size }, value));

  it('slides whole values in a narrow span by counts per value, as the merge walk does', () => {
    const tokens = Array.from({ length: 40 }, () => window(100, () => Math.round(40 + 800 * random() * random())));
    expect(slideBoth(tokens, 6, true)).toBe(34);
    // Negative values, and a span that drifts upwards past the counts' room (they are reloaded).
    const drifting = Array.from({ length: 40 }, (_, w) => window(50, () => Math.round(w * 40 + 100 * random()) - 600));
    expect(slideBoth(drifting, 3, true)).toBe(37);
    // Few values, each many times (counts that drop to zero and come back).
    const few = Array.from({ length: 30 }, () => window(60, () => Math.floor(5 * random())));
    expect(slideBoth(few, 2, true)).toBe(28);
  });

  it('falls back to the walk for wide spans and fractional values, with the same result', () => {
    const wide = Array.from({ length: 12 }, () => window(30, () => Math.round(1e6 * random())));
    expect(slideBoth(wide, 4, true)).toBe(8);
    const decimals = Array.from({ length: 12 }, () => window(30, () => 100 * random()));
    expect(slideBoth(decimals, 4, false)).toBe(8);
  });

  it('refuses a removal it cannot make exactly, and starts afresh on the next slide', () => {
    const slider = new UnionSlider();
    // A removal that meets a fractional count (1.5 at 2).
    const union = mergeSorted(sortedOf([1, 2, 3], [1, 0.5, 2]), sortedOf([2, 4]));
    expect(slider.slide(union, sortedOf([2, 4]), sortedOf([1, 5]), true)).toBeUndefined();
    // A removed value not held, or held fewer times.
    expect(slider.slide(sortedOf([1, 2]), sortedOf([7]), sortedOf([1]), true)).toBeUndefined();
    expect(slider.slide(sortedOf([1, 1, 2]), sortedOf([1, 1, 1]), sortedOf([3]), true)).toBeUndefined();
    const next = slider.slide(sortedOf([1, 1, 2]), sortedOf([1]), sortedOf([3]), true)!;
    expect(plain(next)).toEqual({ values: [1, 2, 3], counts: [1, 1, 1], cumulative: [1, 2, 3] });
    // Slid on from its own result: the counts per value it kept.
    expect(plain(slider.slide(next, sortedOf([2]), sortedOf([3, 9]), true)!)).toEqual({ values: [1, 3, 9], counts: [1, 2, 1], cumulative: [1, 3, 4] });
  });
});
