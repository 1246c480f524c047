import { describe, expect, it } from 'vitest';
import { decodeReference, encodeReference, referenceParts, referenceStrategy, type ReferenceState } from '../../../src/operators/drift/reference.ts';
import type { DriftSample } from '../../../src/operators/drift/sample.ts';
import { DriftWindow } from '../../../src/operators/drift/window.ts';
import type { DriftWindowOptions } from '../../../src/operators/drift/window-options.ts';
import { seededRandom } from '../../support/seeded-random.ts';

/** A sample's fields as plain data (a trailing union's sample lays its sorted form out on first read). */
function plain(sample: DriftSample): unknown {
  if (sample.kind === 'categorical') return sample;
  const { kind, total, distinct, min, max, integral } = sample;
  return { kind, total, distinct, min, max, integral, values: Array.from(sample.values), cumulative: Array.from(sample.cumulativeWeights) };
}

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
        expect(plain(reference!.sample())).toEqual(plain(afresh.sample()));
      }
    });
  }
});

describe('a reference checkpointed in parts', () => {
  const options: DriftWindowOptions = { featureType: 'numerical' };
  const configs = [
    { type: 'trailing_windows', windows: 4 },
    { type: 'first_windows', windows: 3 },
    { type: 'range', from: 20_000, to: 60_000 },
  ] as const;
  for (const config of configs) {
    it(`${config.type}: restored from the series entry and the parts written so far, it hands out what an uninterrupted run does, and writes only changed parts`, () => {
      const strategy = referenceStrategy(config, options);
      const parts = referenceParts(strategy, options);
      const all = windows(options, 24);
      const store = new Map<number, unknown>();
      let main: unknown;
      const checkpoint = (state: ReferenceState): number[] => {
        main = parts.encodeMain(state);
        const written: number[] = [];
        parts.changed(state, false, (part, wire) => {
          written.push(part);
          store.set(part, wire);
        });
        return written;
      };
      const steady = strategy.create();
      let restored = strategy.create();
      for (let w = 0; w < all.length; w++) {
        if (w === 9 || w === 15) {
          restored = decodeReference(main, options);
          for (const [part, wire] of store) parts.restore(restored, part, wire);
        }
        const expected = strategy.next(steady, all[w]!, w * 10_000, (w + 1) * 10_000);
        const got = strategy.next(restored, all[w]!, w * 10_000, (w + 1) * 10_000);
        expect(got && plain(got.sample())).toEqual(expected && plain(expected.sample()));
        const written = checkpoint(restored);
        expect(written.length).toBeLessThanOrEqual(1);
        expect(store.size).toBeLessThanOrEqual(strategy.parts);
      }
      // Collected once, a merged reference is never written again.
      if (config.type !== 'trailing_windows') expect(checkpoint(restored)).toEqual([]);
    });
  }

  it('reads the whole form earlier versions wrote, and then writes every part', () => {
    const strategy = referenceStrategy({ type: 'trailing_windows', windows: 3 }, options);
    const parts = referenceParts(strategy, options);
    const all = windows(options, 8);
    const state = strategy.create();
    for (let w = 0; w < 5; w++) strategy.next(state, all[w]!, w * 10_000, (w + 1) * 10_000);
    // The whole form: the windows oldest first and `taken` (0 for a trailing reference before parts).
    const whole = decodeReference([state.windows.map((w) => w.wire()), 0], options);
    const written: number[] = [];
    parts.changed(whole, false, (part) => written.push(part));
    expect(written.sort()).toEqual([0, 1, 2]);
    expect(plain(strategy.next(whole, all[5]!, 50_000, 60_000)!.sample())).toEqual(plain(strategy.next(state, all[5]!, 50_000, 60_000)!.sample()));
  });
});
