import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AnomalyAggregator } from '../../../src/operators/anomaly/aggregation.ts';
import { AnomalyDetector, anomalyConfig, type AnomalyConfigInput } from '../../../src/operators/anomaly/index.ts';
import { seededRandom } from '../../support/seeded-random.ts';

const FIVE_MINUTES = 300_000;
const START = Date.UTC(2026, 0, 1);

/** What a store keeps of one detector's incremental checkpoints: the latest series entry and base. */
interface Stored {
  main: Uint8Array;
  base: Uint8Array | undefined;
}

/** One incremental checkpoint, as the merger writes it: the series entry first, then the base if due. */
function checkpoint(detector: AnomalyDetector, stored: Stored, all = false): number {
  stored.main = Uint8Array.from(detector.logBytes());
  let bytes = stored.main.byteLength;
  detector.changedPages(all, (page, wire) => {
    expect(page).toBe(0);
    stored.base = Uint8Array.from(wire);
    bytes += wire.byteLength;
  });
  return bytes;
}

function restored(stored: Stored, config: AnomalyConfigInput = {}): AnomalyDetector {
  const detector = AnomalyDetector.restoreLog(stored.main, config);
  detector.restorePage(0, stored.base!);
  return detector;
}

/** A checkpoint in the incremental form before the replay log, written by that code (after 300 points), and the digest of its state (in snapshot version 1's layout). */
const fixture = JSON.parse(readFileSync(new URL('testdata/v1-incremental-checkpoint.json', import.meta.url), 'utf8')) as {
  config: AnomalyConfigInput;
  main: string;
  base: string;
  snapshotSha256: string;
};

const same = (a: AnomalyDetector, b: AnomalyDetector) => expect(Buffer.from(a.snapshot().buffer)).toEqual(Buffer.from(b.snapshot().buffer));

describe('AnomalyDetector in checkpoint parts (a replay log of the points per checkpoint, the whole state now and then)', () => {
  it('restores bit for bit from any checkpoint, and the restored detector checkpoints on correctly', () => {
    const random = seededRandom(3);
    let live = new AnomalyDetector();
    const stored: Stored = { main: new Uint8Array(0), base: undefined };
    let written = 0;
    for (let i = 0; i < 3000; i++) {
      const value = 50 + 10 * Math.sin(i / 40) + 3 * random() + (i % 700 === 650 ? 60 : 0);
      live.update(value, START + i * FIVE_MINUTES);
      // Now and then a checkpoint only every few points (a checkpoint interval of several windows), or a full rewrite.
      const checkpointed = i % 5 !== 3 || i > 2000;
      if (checkpointed) written += checkpoint(live, stored, i % 211 === 7);
      if (checkpointed && i % 97 === 14) {
        const copy = restored(stored);
        same(copy, live);
        // Continue from the restored one: its later checkpoints must restore too.
        live = copy;
      }
    }
    // The whole state is ~10 KB a point; the parts write a small fraction of it.
    expect(written / 3000).toBeLessThan(live.snapshot().byteLength / 10);
  });

  it('restores after a full rewrite that kept the log: the base is past the log, nothing is replayed twice', () => {
    const live = new AnomalyDetector();
    const stored: Stored = { main: new Uint8Array(0), base: undefined };
    for (let i = 0; i < 400; i++) {
      live.update(i % 13, START + i * FIVE_MINUTES);
      checkpoint(live, stored, i === 390);
    }
    same(restored(stored), live);
  });

  it('writes the base when too many points passed without a checkpoint, and restores', () => {
    const live = new AnomalyDetector();
    const stored: Stored = { main: new Uint8Array(0), base: undefined };
    for (let i = 0; i < 50; i++) live.update(i % 7, START + i * FIVE_MINUTES);
    checkpoint(live, stored);
    const base = stored.base;
    for (let i = 50; i < 150; i++) live.update(i % 11, START + i * FIVE_MINUTES);
    checkpoint(live, stored);
    expect(stored.base).not.toBe(base);
    expect(stored.main.byteLength).toBe(8);
    same(restored(stored), live);
  });

  it('a detector restored whole (a full snapshot) writes its base at the next checkpoint', () => {
    const live = new AnomalyDetector();
    for (let i = 0; i < 500; i++) live.update(i % 17, START + i * FIVE_MINUTES);
    const whole = AnomalyDetector.restore(live.snapshot());
    const stored: Stored = { main: new Uint8Array(0), base: undefined };
    checkpoint(whole, stored);
    expect(stored.base).toBeDefined();
    for (let i = 500; i < 520; i++) {
      live.update(i % 23, START + i * FIVE_MINUTES);
      whole.update(i % 23, START + i * FIVE_MINUTES);
      checkpoint(whole, stored);
    }
    same(restored(stored), live);
  });

  it('restores the incremental form written before the replay log (hot slots and changed cells, then the tables)', () => {
    const detector = AnomalyDetector.restoreHot(Buffer.from(fixture.main, 'base64'), fixture.config);
    detector.restorePage(0, Buffer.from(fixture.base, 'base64'));
    expect(createHash('sha256').update(detector.legacySnapshot()).digest('hex')).toBe(fixture.snapshotSha256);
    // It writes a base of its own at its next checkpoint, then checkpoints on in the new form.
    const stored: Stored = { main: new Uint8Array(0), base: undefined };
    checkpoint(detector, stored);
    expect(stored.base).toBeDefined();
    detector.update(55, START);
    checkpoint(detector, stored);
    same(restored(stored, fixture.config), detector);
  });

  it('rejects a series entry or base of another configuration, and a series entry whose base never came', () => {
    const stored: Stored = { main: new Uint8Array(0), base: undefined };
    const live = new AnomalyDetector({ season_slots: [24] });
    live.update(1, START);
    checkpoint(live, stored);
    expect(() => restored(stored)).toThrow(/does not match this configuration/);
    expect(() => AnomalyDetector.restoreLog(new Uint8Array(16))).toThrow(/replay log/);
    expect(() => AnomalyDetector.restoreLog(stored.main).update(1, START)).toThrow(/without its base/);
    expect(() => AnomalyDetector.restoreHot(Buffer.from(fixture.main, 'base64'))).toThrow(/anomaly state/);
  });

  it('rejects a base that is not within the replay log', () => {
    const live = new AnomalyDetector();
    const stored: Stored = { main: new Uint8Array(0), base: undefined };
    for (let i = 0; i < 10; i++) live.update(i, START + i * FIVE_MINUTES);
    checkpoint(live, stored);
    const early = stored.base!;
    for (let i = 10; i < 60; i++) {
      live.update(i, START + i * FIVE_MINUTES);
      checkpoint(live, stored);
    }
    expect(() => restored({ main: stored.main, base: early })).toThrow(/not within the replay log/);
  });
});

describe('the anomaly kind’s series state in checkpoint parts', () => {
  const aggregator = new AnomalyAggregator({ name: 'a', input: 'x', inputLabels: {}, detector: anomalyConfig(fixture.config) });
  const parts = aggregator.stateParts;

  it('restores its series entry and base through msgpack-like copies, in the log form and in the form before it', () => {
    const state = aggregator.createSeriesState();
    for (let i = 0; i < 70; i++) state.detector.update(i % 9, START + i * FIVE_MINUTES);
    state.events = 3;
    const copy = (wire: unknown) => structuredClone(wire);
    const main = copy(parts.encodeMain(state));
    let base: unknown;
    parts.changed(state, false, (part, wire) => (base = copy(wire)));
    const back = aggregator.decodeSeriesState(main);
    parts.restore(back, 0, base);
    expect(back.events).toBe(3);
    same(back.detector, state.detector);

    const old = aggregator.decodeSeriesState([Buffer.from(fixture.main, 'base64'), 5, 1]);
    parts.restore(old, 0, Buffer.from(fixture.base, 'base64'));
    expect(old.events).toBe(5);
    expect(createHash('sha256').update(old.detector.legacySnapshot()).digest('hex')).toBe(fixture.snapshotSha256);
  });
});
