/**
 * Writes v1-layout-fixture.json with the detector code of snapshot version 1 (the layout of three
 * tables per seasonal profile, before the state was interleaved for the cache; commit 6804a55):
 * per configuration, a whole snapshot at point 700, an incremental checkpoint (base and replay
 * log) at point 720, and the digests of every point scored from 700 and from 720 to 1500. layout.test.ts
 * restores them with today's code and checks the scores bit for bit. Kept for the record: it only
 * reproduces the fixture when run on that commit's code.
 *
 *   node --import tsx test/unit/anomaly/testdata/make-v1-layout-fixture.ts
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { AnomalyDetector, type AnomalyConfigInput } from '../../../../src/operators/anomaly/index.ts';
import { layoutFixtureConfigs, layoutFixturePoint } from './layout-fixture-series.ts';

const fixtures = layoutFixtureConfigs.map((config) => {
  const detector = new AnomalyDetector(config);
  const scores = createHash('sha256');
  const scoresLater = createHash('sha256');
  let snapshot = '';
  let main = '';
  let base = '';
  let baseAt719 = '';
  for (let i = 0; i < 1500; i++) {
    if (i === 700) snapshot = Buffer.from(detector.snapshot().buffer).toString('base64');
    const [value, time] = layoutFixturePoint(i);
    const point = detector.update(value, time);
    const bits = new Float64Array([point.score, point.lower, point.upper, point.anomalous ? 1 : 0]);
    if (i >= 700) scores.update(bits);
    if (i >= 720) scoresLater.update(bits);
    // Incremental checkpoints every 3 points, so the one after point 719 holds a base and a log.
    if (i % 3 === 0 || i === 719) {
      const log = Buffer.from(detector.logBytes()).toString('base64');
      detector.changedPages(false, (_page, bytes) => (base = Buffer.from(bytes).toString('base64')));
      if (i === 719) {
        main = log;
        baseAt719 = base;
      }
    }
  }
  return { config: config satisfies AnomalyConfigInput, snapshot, main, base: baseAt719, scoresFrom700: scores.digest('hex'), scoresFrom720: scoresLater.digest('hex') };
});
writeFileSync(new URL('v1-layout-fixture.json', import.meta.url), `${JSON.stringify(fixtures)}\n`);
