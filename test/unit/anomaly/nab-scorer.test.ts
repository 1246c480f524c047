import { describe, expect, it } from 'vitest';
import { bestThreshold, PROFILES, probationaryLength, scaledSigmoid, scoreAt, weighFile, type Profile } from '../../support/nab/scorer.ts';

// A handmade corpus: file A (20 points, window [10, 13]) has a probationary hit at 1, false
// positives at 5 (before any window: full cost) and 15 (2 points after the window: sigmoid cost),
// and two hits in its window (only the first, 11, counts); file B's window [8, 9] is missed.
// The expected figures below were worked out by hand from NAB's formulas:
//   TP weight at 11 = scaledSigmoid(−3/4) / scaledSigmoid(−1) = 0.9669890878000605
//   FP weight at 15 = scaledSigmoid(2/3) × fp weight
function corpus(profile: Profile) {
  const a = new Array<number>(20).fill(0);
  a[1] = 1;
  a[5] = 0.6;
  a[11] = 0.9;
  a[12] = 0.8;
  a[15] = 0.7;
  const b = new Array<number>(20).fill(0);
  return [weighFile(a, [[10, 13]], profile), weighFile(b, [[8, 9]], profile)];
}

describe('NAB scorer rules', () => {
  it('has NAB’s sigmoid and probationary period', () => {
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3.5)).toBe(-1);
    expect(scaledSigmoid(-1)).toBeCloseTo(0.9866142981514303, 14);
    expect(probationaryLength(20)).toBe(3);
    expect(probationaryLength(100_000)).toBe(750);
  });

  it.each([
    ['standard', PROFILES.standard, -0.24543296915337298, 43.86417577116568],
    ['reward_low_FP_rate', PROFILES.reward_low_FP_rate, -0.4578550261068065, 38.55362434732984],
    ['reward_low_FN_rate', PROFILES.reward_low_FN_rate, -1.245432969153373, 45.90945051411045],
  ] as const)('scores a fixed threshold exactly (%s)', (_name, profile, raw, normalised) => {
    const r = scoreAt(corpus(profile), 0.5, profile);
    expect(r.raw).toBeCloseTo(raw, 12);
    expect(r.normalised).toBeCloseTo(normalised, 10);
    expect(r).toMatchObject({ windowsDetected: 1, windows: 2, falsePositives: 2 });
  });

  it.each([
    ['standard', PROFILES.standard, 49.17472719500151],
    ['reward_low_FN_rate', PROFILES.reward_low_FN_rate, 49.449818130001006],
  ] as const)('finds the best threshold: the highest score that keeps the hit and drops the false positives (%s)', (_name, profile, normalised) => {
    const r = bestThreshold(corpus(profile), profile);
    expect(r.threshold).toBe(0.9);
    expect(r.normalised).toBeCloseTo(normalised, 10);
    expect(r).toMatchObject({ windowsDetected: 1, falsePositives: 0 });
  });

  it('scores the null detector 0 and a perfect one 100', () => {
    const files = [weighFile([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], [[9, 11]], PROFILES.standard)];
    expect(scoreAt(files, 2, PROFILES.standard).normalised).toBe(0);
    expect(scoreAt(files, 1, PROFILES.standard).normalised).toBeCloseTo(100, 12);
  });
});
