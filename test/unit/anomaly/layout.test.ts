import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AnomalyDetector, type AnomalyConfigInput } from '../../../src/operators/anomaly/index.ts';
import { layoutFixtureConfigs, layoutFixturePoint } from './testdata/layout-fixture-series.ts';

/** Written by snapshot version 1's code (make-v1-layout-fixture.ts): three tables per seasonal profile, a ring per likelihood. */
const fixtures = JSON.parse(readFileSync(new URL('testdata/v1-layout-fixture.json', import.meta.url), 'utf8')) as {
  config: AnomalyConfigInput;
  snapshot: string;
  main: string;
  base: string;
  scoresFrom700: string;
  scoresFrom720: string;
}[];

const doubles = (base64: string) => {
  const bytes = Buffer.from(base64, 'base64');
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

/** Scores points [from, 1500) of the fixture's series; the digest of every point's score, range and verdict. */
function scoresFrom(detector: AnomalyDetector, from: number): string {
  const digest = createHash('sha256');
  for (let i = from; i < 1500; i++) {
    const point = detector.update(...layoutFixturePoint(i));
    digest.update(new Float64Array([point.score, point.lower, point.upper, point.anomalous ? 1 : 0]));
  }
  return digest.digest('hex');
}

describe('AnomalyDetector state layout (version 2, interleaved for the cache)', () => {
  it('scores bit for bit as version 1 did, and a version-1 snapshot moves into the same state as the new layout learns', () => {
    expect(fixtures.map((f) => f.config)).toEqual(layoutFixtureConfigs);
    for (const fixture of fixtures) {
      const live = new AnomalyDetector(fixture.config);
      for (let i = 0; i < 700; i++) live.update(...layoutFixturePoint(i));
      const legacy = doubles(fixture.snapshot);
      expect(legacy[0]).toBe(1);
      const restored = AnomalyDetector.restore(legacy, fixture.config);
      expect(Buffer.from(restored.bytes)).toEqual(Buffer.from(live.bytes));
      expect(restored.snapshot()[0]).toBe(2);
      expect(scoresFrom(live, 700)).toBe(fixture.scoresFrom700);
      expect(scoresFrom(restored, 700)).toBe(fixture.scoresFrom700);
    }
  });

  it('restores version 1’s incremental checkpoint (its base and replay log) and scores on as version 1 did', () => {
    for (const fixture of fixtures) {
      const detector = AnomalyDetector.restoreLog(Buffer.from(fixture.main, 'base64'), fixture.config);
      const base = Buffer.from(fixture.base, 'base64');
      expect(base.readDoubleLE(0)).toBe(1);
      detector.restorePage(0, base);
      expect(scoresFrom(detector, 720)).toBe(fixture.scoresFrom720);
    }
  });

  it('refuses a snapshot of another version', () => {
    const snapshot = new AnomalyDetector().snapshot();
    snapshot[0] = 3;
    expect(() => AnomalyDetector.restore(snapshot)).toThrow(/version 3/);
  });
});
