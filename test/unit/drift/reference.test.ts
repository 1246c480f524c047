import { describe, expect, it } from 'vitest';
import { decodeReference, encodeReference, referenceStrategy } from '../../../src/operators/drift/reference.ts';
import { DriftWindow } from '../../../src/operators/drift/window.ts';
import type { DriftWindowOptions } from '../../../src/operators/drift/window-options.ts';
import { seededRandom } from '../../support/seeded-random.ts';

/** Windows of whole and fractional values, some past the exact bound (sketched), some empty of a value range. */
function windows(options: DriftWindowOptions, n: number): DriftWindow[] {
  const random = seededRandom(21);
  return Array.from({ length: n }, (_, w) => {
    const window = new DriftWindow(options);
    const size = 20 + Math.floor(random() * 80);
    for (let i = 0; i < size; i++) window.add(w % 7 === 3 ? Math.round(1000 * random()) / 10 : Math.round(40 + 60 * random() + w));
    return window;
  });
}

describe('trailing_windows reference', () => {
  for (const maxExactValues of [10_000, 150]) {
    it(`is at every window the union of the N windows before it, merged afresh (max_exact_values ${maxExactValues}, restored midway)`, () => {
      const options: DriftWindowOptions = { featureType: 'numerical', maxExactValues };
      const strategy = referenceStrategy({ type: 'trailing_windows', windows: 4 }, options);
      const all = windows(options, 40);
      let state = strategy.create();
      for (let w = 0; w < all.length; w++) {
        if (w === 17) state = decodeReference(encodeReference(state), options);
        const reference = strategy.next(state, all[w]!, w * 10_000, (w + 1) * 10_000);
        if (w < 4) {
          expect(reference).toBeUndefined();
          continue;
        }
        const afresh = new DriftWindow(options);
        for (const window of all.slice(w - 4, w)) afresh.merge(window);
        expect(reference!.size).toBe(afresh.size);
        expect(reference!.sample()).toEqual(afresh.sample());
        expect(reference!.snapshot()).toEqual(afresh.snapshot());
      }
    });
  }
});
