// The window merger's checkpoint bytes, pinned: what Redis holds must stay readable by the next
// release and a replay from it must stay bit for bit, so a refactor of the merger (such as its
// split into time windows, sessions and series) may not change a byte. The digests were taken
// from the merger before that split; a deliberate format change updates them (and says so).
// Updated once since: quantile sketches went from the library's protobuf to sketch-wire.ts's
// form (checkpoints holding the protobuf still restore; test/unit/aggregations/sketch-wire.test.ts).
// Changed entries are digested by name, not in the order `changes()` lists them: they are fields
// of one Redis hash, which has no order, and series now flag their changes instead of joining a
// set (13 B per series). The digests below were taken from the merger before that change, and
// are the same after it.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';
import { packState } from '../../src/runtime/repartition-codec.ts';
import { OPTIONS, runEveryKind, WINDOWINGS } from './aggregations/every-kind.ts';

const PINNED: Record<string, string> = {
  tumbling: 'c67ed3c564300603f76b2f48a97ae29f1b65fecb38a2bb2083c4bf21a598f041',
  hopping: 'a3887c8f18ebd9b3ac40827864d2fcf8541ab60436dc71f980c50027961b9473',
  session: '144761bd44a1b93b730e3b84f1375b36c6d77ddf71a29d350bdab9592e2b2b07',
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
        const { put, remove } = m.changes(steps % 4 === 0);
        hash.update(packState({ put: [...put].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)), remove }));
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
