import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AnomalyDetector, anomalyConfig, parseTimestamp } from '../../../src/operators/anomaly/index.ts';
import { seededRandom } from '../../support/seeded-random.ts';

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
  it('gives the scores and writes the snapshots it always did, bit for bit (restored every 250 points)', () => {
    // Digests taken before the state moved into one Float64Array: checkpoints and scores unchanged.
    const pinned: [Parameters<typeof anomalyConfig>[0], string, string][] = [
      [{}, 'aea1999d8e442f7b', '1bd510af5fe854c0'],
      [{ season_slots: [24], novelty_order: 2, likelihood_window: 3, learn_points: 10, rest_points: 5 }, '3d604153ff7d92fc', '55ee5a843b8527de'],
      [{ novelty_bins: 4, novelty_order: 4, season_slots: [7, 24, 168], threshold: 0.1 }, '59107bc3b2a6c981', 'e9ef15fc781122a3'],
    ];
    for (const [config, scoresDigest, snapshotsDigest] of pinned) {
      const scores = createHash('sha256');
      const snapshots = createHash('sha256');
      const random = seededRandom(3);
      let detector = new AnomalyDetector(config);
      for (let i = 0; i < 5000; i++) {
        const value = i % 997 === 500 ? 1e6 : 100 + 10 * Math.sin(i / 50) + 5 * random() + (i > 3000 ? 30 : 0);
        const point = detector.update(i === 77 ? Number.NaN : value, 1_600_000_000_000 + i * FIVE_MINUTES);
        scores.update(new Float64Array([point.score, point.lower, point.upper, point.anomalous ? 1 : 0]));
        if (i % 250 === 0) {
          const snapshot = detector.snapshot();
          // In version 1's layout, as the digests were taken: the same doubles, elsewhere since version 2.
          snapshots.update(detector.legacySnapshot());
          expect(Buffer.from(detector.bytes)).toEqual(Buffer.from(snapshot.buffer));
          detector = AnomalyDetector.restore(snapshot, config);
        }
      }
      expect([scores.digest('hex').slice(0, 16), snapshots.digest('hex').slice(0, 16)]).toEqual([scoresDigest, snapshotsDigest]);
    }
  });

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
