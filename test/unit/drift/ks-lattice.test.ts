import { describe, expect, it } from 'vitest';
import { latticeStatistic } from '../../../src/operators/drift/ks.ts';
import { weightedNumericSample, type NumericSample } from '../../../src/operators/drift/sample.ts';
import { seededRandom } from '../../support/seeded-random.ts';

/** The statistic by the merge walk over every pooled value (what the lookup form replaced), in 1/(n1 n2) units over g. */
function byWalk(a: NumericSample, b: NumericSample, g: number): number {
  let [i, j, ca, cb, max, min] = [0, 0, 0, 0, 0, 0];
  while (i < a.values.length || j < b.values.length) {
    const va = i < a.values.length ? a.values[i]! : Number.POSITIVE_INFINITY;
    const vb = j < b.values.length ? b.values[j]! : Number.POSITIVE_INFINITY;
    if (va <= vb) ca = a.cumulativeWeights[i++]!;
    if (vb <= va) cb = b.cumulativeWeights[j++]!;
    const diff = ca * b.total - cb * a.total;
    max = Math.max(max, diff);
    min = Math.min(min, diff);
  }
  return Math.max(max, -min) / g;
}

const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));

describe('K-S lattice statistic', () => {
  it('equals the merge walk over the pooled values, with ties, weights, disjoint and nested ranges', () => {
    const random = seededRandom(3);
    const sample = (n: number, range: number, shift: number, weighted: boolean): NumericSample => {
      const counts = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const v = Math.round(shift + range * random());
        counts.set(v, (counts.get(v) ?? 0) + (weighted ? 1 + Math.floor(3 * random()) : 1));
      }
      const values = [...counts.keys()].sort((x, y) => x - y);
      let running = 0;
      return weightedNumericSample(values, values.map((v) => (running += counts.get(v)!)), true);
    };
    let nonZero = 0;
    for (let t = 0; t < 5000; t++) {
      const a = sample(1 + Math.floor(random() * 60), Math.floor(random() * 40), 0, random() < 0.5);
      const b = sample(1 + Math.floor(random() * 60), Math.floor(random() * 40), Math.floor(random() * 60) - 30, random() < 0.5);
      const g = gcd(a.total, b.total);
      const expected = byWalk(a, b, g);
      expect(latticeStatistic(a, b, g)).toBe(expected);
      expect(latticeStatistic(b, a, g)).toBe(expected);
      if (expected > 0) nonZero++;
    }
    expect(nonZero).toBeGreaterThan(4000);
  });

  it('leaves fractional counts to the float walk', () => {
    const a = weightedNumericSample([1, 2], [0.5, 1.5], true);
    const b = weightedNumericSample([1, 3], [1, 2], true);
    expect(latticeStatistic(a, b, 1)).toBeUndefined();
  });
});
