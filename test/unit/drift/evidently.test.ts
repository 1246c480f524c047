import { describe, expect, it } from 'vitest';
import { DriftWindow, scoreDrift, scoreDriftAll } from '../../../src/operators/drift/index.ts';
import type { FeatureType } from '../../../src/operators/drift/index.ts';
import { kolmogorovTwoSidedSurvival } from '../../../src/operators/drift/kolmogorov.ts';
import { replaySample } from './replay.ts';
import type { SampleRecipe } from './replay.ts';
import { expectScore, fixture } from './fixture.ts';

function windowOf(featureType: FeatureType, values: (number | string)[]): DriftWindow {
  // Large enough to stay exact: the sketch's error is tested in window.test.ts.
  const window = new DriftWindow({ featureType, maxExactValues: 100_000 });
  for (const v of values) window.add(v);
  return window;
}

function valuesOf(stored: (number | string)[] | null, recipe: SampleRecipe | undefined, expectedSum: number | undefined): (number | string)[] {
  if (stored !== null) return stored;
  const values = replaySample(recipe!);
  // The replay must reproduce the samples Python fed to Evidently (numpy sums pairwise, hence not ===).
  expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(expectedSum!, 6);
  return values;
}

describe('drift scores equal Evidently 0.7.23', () => {
  it('records the versions that made the fixture', () => {
    expect(fixture.versions).toMatchObject({ evidently: '0.7.23' });
    expect(Object.keys(fixture.versions).sort()).toEqual(['evidently', 'numpy', 'pandas', 'scipy']);
    expect(fixture.cases.length).toBeGreaterThan(40);
  });

  for (const c of fixture.cases) {
    it(c.name, () => {
      const reference = windowOf(c.type, valuesOf(c.reference, c.reference_recipe, c.reference_sum));
      const current = windowOf(c.type, valuesOf(c.current, c.current_recipe, c.current_sum));
      const report = scoreDriftAll(reference, current);
      expect(report.defaultMethod).toBe(c.default_method);
      expect(scoreDrift(reference, current, 'default').method).toBe(c.default_method);
      expect(report.results.map((r) => r.method).sort()).toEqual(Object.keys(c.evidently).sort());
      for (const result of report.results) {
        const expected = c.evidently[result.method]!;
        expectScore(result.score, expected.score, result.method);
        expect(result.detected, result.method).toBe(expected.detected);
        expect(result.threshold, result.method).toBe(expected.threshold);
      }
    });
  }
});

describe('kstwo.sf (asymptotic K-S p-value) equals scipy 1.17', () => {
  it(`on a grid of ${fixture.kstwo_sf.length} (n, x) points reaching every branch`, () => {
    expect(fixture.kstwo_sf.length).toBeGreaterThan(150);
    for (const [n, x, sf] of fixture.kstwo_sf) expectScore(kolmogorovTwoSidedSurvival(n, x), sf, `n=${n} x=${x}`);
  });
});
