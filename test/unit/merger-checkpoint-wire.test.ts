// The window merger's checkpoint bytes, pinned: what Redis holds must stay readable by the next
// release and a replay from it must stay bit for bit, so a refactor of the merger (such as its
// split into time windows, sessions and series) may not change a byte. The digests were taken
// from the merger before that split; a deliberate format change updates them (and says so).
// Updated once since: quantile sketches went from the library's protobuf to sketch-wire.ts's
// form (checkpoints holding the protobuf still restore; test/unit/aggregations/sketch-wire.test.ts).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';
import { packState } from '../../src/runtime/repartition-codec.ts';
import { OPTIONS, runEveryKind, WINDOWINGS } from './aggregations/every-kind.ts';

const PINNED: Record<string, string> = {
  tumbling: '029f29ce1f672d242e8d35c69311db04b1962620e6789bd06ba15a0a3488d8e6',
  hopping: '64e1fc1ec974b4270c846e2acc7591c40e837f5a6d7a1c088cd3b01fda771674',
  session: '99964a23fa5e88341b3ad9933d9b27427222474778220f7961617397863ccbcc',
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
