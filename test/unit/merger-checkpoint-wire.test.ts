// The window merger's checkpoint bytes, pinned: what Redis holds must stay readable by the next
// release and a replay from it must stay bit for bit, so a refactor of the merger (such as its
// split into time windows, sessions and series) may not change a byte. The digests were taken
// from the merger before that split; a deliberate format change updates them (and says so).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';
import { packState } from '../../src/runtime/repartition-codec.ts';
import { OPTIONS, runEveryKind, WINDOWINGS } from './aggregations/every-kind.ts';

const PINNED: Record<string, string> = {
  tumbling: 'a36b30a56b02d3da7c3a37de70c1830c74b5568f44489f61e0ec09e9af5a9bd0',
  hopping: '7dfba14bd7327c134ab982963a4594343ba7c024a991bc72dae34839fe848d45',
  session: '809d5bf5cb13346e0b09b9c64a08072ee2540aa3d6ebc0518fa2d75469d084e5',
};

/**
 * The every-kind workload under a series budget tight enough to fold series into overflow and
 * drop retained totals, digesting at every watermark step the full snapshot, the incremental
 * head and the changed entries (all of them every fourth step), as stage 2 would write them.
 */
function checkpointDigest(name: string): { digest: string; steps: number; retained: number; folded: number } {
  const windowing = WINDOWINGS[name]!;
  const hash = createHash('sha256');
  let steps = 0;
  let retained = 0;
  let folded = 0;
  runEveryKind(windowing, (groups) => {
    const options = { ...OPTIONS, partition: 3, seriesBudget: () => 60, onFolded: () => folded++ };
    const m = new WindowMerger(groups, windowing, options, { emit: () => {} });
    return {
      addPartial: (p) => m.addPartial(p),
      advanceWatermark: (w) => {
        m.advanceWatermark(w);
        steps++;
        retained = Math.max(retained, m.retainedCount);
        hash.update(packState(m.snapshot()));
        hash.update(packState(m.head()));
        hash.update(packState(m.changes(steps % 4 === 0)));
      },
    };
  });
  return { digest: hash.digest('hex'), steps, retained, folded };
}

describe('window merger checkpoint wire format', () => {
  for (const name of Object.keys(WINDOWINGS)) {
    it(`is byte for byte what it was, ${name} windows (snapshots, heads, changed entries)`, () => {
      const { digest, steps, retained, folded } = checkpointDigest(name);
      // The workload reaches what the format holds: many steps, overflow, retained totals.
      expect(steps).toBeGreaterThan(20);
      expect(folded).toBeGreaterThan(0);
      expect(retained).toBeGreaterThan(0);
      expect(digest).toBe(PINNED[name]);
    });
  }
});
