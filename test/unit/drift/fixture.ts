import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { DriftMethod, FeatureType } from '../../../src/operators/drift/index.ts';
import type { SampleRecipe } from './replay.ts';

/**
 * Every fixture case was scored by Evidently 0.7.23 itself (test/fixtures/drift/generate.py; the
 * scipy/numpy/pandas versions are in the fixture). Scores must agree within 1e-6 absolute, or 1e-6
 * relative for scores above 1 (PSI and normed Wasserstein can be large); verdicts and Evidently's
 * default method must be identical.
 */
export interface FixtureCase {
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

/** What `sluice score drift --json` must print for the CLI fixture's columns. */
export interface CliExpectation {
  evidently: FixtureCase['evidently'];
  default_method: DriftMethod;
  reference_size: number;
  current_size: number;
}

export const fixture = JSON.parse(readFileSync(new URL('../../fixtures/drift/evidently-cases.json', import.meta.url), 'utf8')) as {
  versions: Record<string, string>;
  cases: FixtureCase[];
  kstwo_sf: [number, number, number][];
};

export const TOLERANCE = 1e-6;

/** Agreement within 1e-6, absolute up to 1 and relative above. */
export function expectScore(actual: number, expected: number | string, label: string): void {
  const want = Number(expected);
  if (Number.isNaN(want)) expect(actual, label).toBeNaN();
  else expect(Math.abs(actual - want), `${label}: ${actual} vs ${want}`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(want)));
}
