import { describe, expect, it } from 'vitest';
import { AnomalyDetector } from '../../../src/operators/anomaly/index.ts';
import { seededRandom } from '../../support/seeded-random.ts';

const FIVE_MINUTES = 300_000;
const START = Date.UTC(2026, 0, 1);

/** What a store keeps of one detector's incremental checkpoints: the latest main entry and base. */
interface Stored {
  main: Uint8Array;
  base: Uint8Array | undefined;
}

/** One incremental checkpoint, as the merger writes it: the main entry first, then the base if due. */
function checkpoint(detector: AnomalyDetector, stored: Stored, all = false): number {
  stored.main = Uint8Array.from(detector.hotBytes);
  let bytes = stored.main.byteLength;
  detector.changedPages(all, (page, wire) => {
    expect(page).toBe(0);
    stored.base = Uint8Array.from(wire);
    bytes += wire.byteLength;
  });
  return bytes;
}

function restored(stored: Stored): AnomalyDetector {
  const detector = AnomalyDetector.restoreHot(stored.main);
  detector.restorePage(0, stored.base!);
  return detector;
}

describe('AnomalyDetector in checkpoint parts (hot slots and changed cells per point, the tables now and then)', () => {
  it('restores bit for bit from any checkpoint, and the restored detector checkpoints on correctly', () => {
    const random = seededRandom(3);
    let live = new AnomalyDetector();
    const stored: Stored = { main: new Uint8Array(0), base: undefined };
    let written = 0;
    for (let i = 0; i < 3000; i++) {
      // Hourly slots move every 12 points; a spike now and then touches fresh transition cells.
      const value = 50 + 10 * Math.sin(i / 40) + 3 * random() + (i % 700 === 650 ? 60 : 0);
      live.update(value, START + i * FIVE_MINUTES);
      written += checkpoint(live, stored);
      if (i % 97 === 13) {
        const copy = restored(stored);
        expect(Buffer.from(copy.snapshot().buffer)).toEqual(Buffer.from(live.snapshot().buffer));
        // Continue from the restored one: its later checkpoints must restore too.
        live = copy;
      }
    }
    // The whole state is ~10 KB a point; the parts write a small fraction of it.
    expect(written / 3000).toBeLessThan(live.snapshot().byteLength / 3);
  });

  it('a detector restored whole (a checkpoint from before parts) writes its base at the next checkpoint', () => {
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
    expect(Buffer.from(restored(stored).snapshot().buffer)).toEqual(Buffer.from(live.snapshot().buffer));
  });

  it('rejects a main entry or base of another configuration', () => {
    const stored: Stored = { main: new Uint8Array(0), base: undefined };
    const live = new AnomalyDetector({ season_slots: [24] });
    live.update(1, START);
    checkpoint(live, stored);
    expect(() => AnomalyDetector.restoreHot(stored.main)).toThrow(/anomaly/);
    const other = AnomalyDetector.restoreHot(Uint8Array.from(new AnomalyDetector().hotBytes));
    expect(() => other.restorePage(0, stored.base!)).toThrow(/anomaly state base/);
  });
});
