import { describe, expect, it } from 'vitest';
import { AnomalyDetector, anomalyConfig, parseTimestamp } from '../../../src/operators/anomaly/index.ts';

const FIVE_MINUTES = 300_000;
const START = Date.UTC(2026, 0, 1);

/** A seeded (mulberry32) daily sine with noise, a level shift at 3000 and a spike at 4000. */
function series(n: number, seed = 7): { value: number; time: number }[] {
  let s = seed >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, (_, i) => ({
    time: START + i * FIVE_MINUTES,
    value: 50 + 10 * Math.sin((2 * Math.PI * i) / 288) + 2 * random() + (i >= 3000 && i < 3100 ? 15 : 0) + (i === 4000 ? 80 : 0),
  }));
}

function run(detector: AnomalyDetector, points: { value: number; time: number }[]): number[] {
  return points.map((p) => detector.update(p.value, p.time).score);
}

describe('AnomalyDetector', () => {
  it('is deterministic: two detectors give the same scores, bit for bit', () => {
    const points = series(5000);
    expect(run(new AnomalyDetector(), points)).toEqual(run(new AnomalyDetector(), points));
  });

  it('continues from a snapshot exactly as an uninterrupted run', () => {
    const points = series(5000);
    const whole = new AnomalyDetector();
    const uninterrupted = run(whole, points);
    const first = new AnomalyDetector();
    const before = run(first, points.slice(0, 2345));
    // Through bytes, as a checkpoint store would keep it.
    const bytes = Buffer.from(first.snapshot().buffer);
    const restored = AnomalyDetector.restore(new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
    expect([...before, ...run(restored, points.slice(2345))]).toEqual(uninterrupted);
    expect(restored.snapshot()).toEqual(whole.snapshot());
  });

  it('refuses a snapshot taken with another configuration', () => {
    const snapshot = new AnomalyDetector().snapshot();
    expect(() => AnomalyDetector.restore(snapshot, { novelty_bins: 6 })).toThrow(/does not match this configuration/);
  });

  it('keeps O(1) state: the snapshot has the same length after 10^3 and 10^5 points', () => {
    const detector = new AnomalyDetector();
    const points = series(100_000);
    run(detector, points.slice(0, 1000));
    const early = detector.snapshot().length;
    run(detector, points.slice(1000));
    expect(detector.snapshot().length).toBe(early);
    // Header 2, range 3, seasons (24 + 168) × 3 + 2 × 3, novelty 3 + 7 edges + 8³ + 8² cells + 3,
    // volatility 8, four likelihoods of 2 + a ring of 10 + 3, rest 1: 1245 float64s, under 10 KB.
    expect(early).toBe(1245);
    expect(early).toBe(new AnomalyDetector().snapshot().length);
  });

  it('scores in [0, 1], flags the spike and the level shift, and stays quiet on the plain sine', () => {
    const detector = new AnomalyDetector();
    const points = series(5000);
    const results = points.map((p) => detector.update(p.value, p.time));
    for (const r of results) {
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
      expect(r.lower).toBeLessThanOrEqual(r.upper);
    }
    const flagged = (from: number, to: number) => results.slice(from, to).some((r) => r.anomalous);
    expect(flagged(3000, 3020)).toBe(true);
    expect(flagged(4000, 4001)).toBe(true);
    expect(results[4000]!.score).toBe(1);
    expect(results[4000]!.upper).toBeLessThan(points[4000]!.value);
    expect(flagged(1500, 2900)).toBe(false);
  });

  it('flags nothing while it learns, not even the first points’ tiny range being broken', () => {
    const detector = new AnomalyDetector();
    const scores = Array.from({ length: 200 }, (_, i) => detector.update(i * i, START + i * FIVE_MINUTES).score);
    expect(scores.every((s) => s === 0)).toBe(true);
    expect(detector.update(1e9, START + 200 * FIVE_MINUTES).score).toBe(1);
  });

  it('skips a non-finite value: score 0, nothing learnt', () => {
    const points = series(600);
    const a = new AnomalyDetector();
    const b = new AnomalyDetector();
    run(a, points.slice(0, 300));
    run(b, points.slice(0, 300));
    expect(b.update(Number.NaN, points[300]!.time).score).toBe(0);
    expect(b.update(Number.POSITIVE_INFINITY, points[300]!.time).score).toBe(0);
    expect(run(b, points.slice(300))).toEqual(run(a, points.slice(300)));
  });

  it('rejects unknown and out-of-range parameters with their path', () => {
    expect(() => anomalyConfig({ treshold: 0.5 } as never)).toThrow(/treshold/);
    expect(() => anomalyConfig({ threshold: 2 })).toThrow(/threshold/);
    expect(anomalyConfig({}).rest_points).toBe(30);
  });

  it('reads NAB timestamps as UTC', () => {
    expect(parseTimestamp('2015-02-26 21:42:53')).toBe(Date.UTC(2015, 1, 26, 21, 42, 53));
    expect(parseTimestamp('2015-02-26T21:42:53+01:00')).toBe(Date.UTC(2015, 1, 26, 20, 42, 53));
    expect(parseTimestamp('not a time')).toBeNaN();
  });
});
