import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DriftMethod } from '../../../src/operators/drift/methods.ts';
import { categoricalSample, numericSample } from '../../../src/operators/drift/sample.ts';
import type { DriftSample, FeatureType } from '../../../src/operators/drift/sample.ts';
import { scoreAllMethods } from '../../../src/operators/drift/score.ts';
import { replaySample } from './replay.ts';
import type { SampleRecipe } from './replay.ts';

/**
 * Every fixture case was scored by Evidently 0.7.23 itself (test/fixtures/drift/generate.py; the
 * scipy/numpy/pandas versions are in the fixture). Scores must agree within 1e-6 absolute, or 1e-6
 * relative for scores above 1 (PSI and normed Wasserstein can be large); verdicts and Evidently's
 * default method must be identical.
 */
interface FixtureCase {
  name: string;
  type: FeatureType;
  reference: (number | string)[] | null;
  current: (number | string)[] | null;
  reference_recipe?: SampleRecipe;
  current_recipe?: SampleRecipe;
  reference_sum?: number;
  current_sum?: number;
  evidently: Record<string, { score: number | string; detected: boolean; threshold: number }>;
  default_method: DriftMethod;
}

const fixture = JSON.parse(readFileSync(new URL('../../fixtures/drift/evidently-cases.json', import.meta.url), 'utf8')) as {
  versions: Record<string, string>;
  cases: FixtureCase[];
};

const TOLERANCE = 1e-6;

function sampleOf(type: FeatureType, values: (number | string)[]): DriftSample {
  if (type === 'numerical') return numericSample(values as number[]);
  const counts = new Map<string, number>();
  for (const v of values) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  return categoricalSample(counts);
}

function valuesOf(stored: (number | string)[] | null, recipe: SampleRecipe | undefined, expectedSum: number | undefined): (number | string)[] {
  if (stored !== null) return stored;
  const values = replaySample(recipe!);
  // The replay must reproduce the exact doubles Python fed to Evidently.
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
      const reference = sampleOf(c.type, valuesOf(c.reference, c.reference_recipe, c.reference_sum));
      const current = sampleOf(c.type, valuesOf(c.current, c.current_recipe, c.current_sum));
      const report = scoreAllMethods(reference, current, c.type);
      expect(report.defaultMethod).toBe(c.default_method);
      expect(report.results.map((r) => r.method).sort()).toEqual(Object.keys(c.evidently).sort());
      for (const result of report.results) {
        const expected = c.evidently[result.method]!;
        const want = Number(expected.score);
        if (Number.isNaN(want)) expect(result.score, result.method).toBeNaN();
        else expect(Math.abs(result.score - want), `${result.method}: ${result.score} vs ${want}`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(want)));
        expect(result.detected, result.method).toBe(expected.detected);
        expect(result.threshold, result.method).toBe(expected.threshold);
      }
    });
  }
});
