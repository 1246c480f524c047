import { describe, expect, it } from 'vitest';
import { metricSchema } from '../../src/config/schema.ts';
import { planMetrics, type Windowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger, type MergerHead, type MergerOptions } from '../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial, packState, unpackState } from '../../src/runtime/repartition-codec.ts';
import { MemoryCheckpointStore } from '../../src/state/checkpoint-store.ts';
import { sampleEmitter, sampleLine } from './aggregations/flattened.ts';
import { seededRandom } from '../support/seeded-random.ts';

/**
 * The window merger restored from an incremental checkpoint (head + changed entries) at any
 * checkpoint emits exactly what an uninterrupted merger emits: in particular every window of the
 * per-window kinds the exactly-once suites check (quantiles, distinct, max), whether the window
 * was open at checkpoint time or its series was born after the previous checkpoint, for tumbling,
 * hopping and session windows. (A crash or a rebalance restores the merger this way.)
 */

// The exactly-once pipeline's kinds (test/fixtures/pipelines/exactly-once.yaml), smaller.
const metrics = [
  { name: 'eo_requests_total', type: 'counter', labels: { model: 'model' } },
  { name: 'eo_latency_ms', type: 'quantiles', value: 'latency_ms', quantiles: [0.5, 0.99], relative_accuracy: 0.01, labels: { model: 'model' } },
  { name: 'eo_distinct_users', type: 'distinct', value: 'user', precision: 14, labels: { model: 'model' } },
  { name: 'eo_latency_max_ms', type: 'gauge', aggregate: 'max', value: 'latency_ms', labels: { model: 'model' } },
].map((m) => metricSchema.parse(m));
const groups = planMetrics(metrics);
const PARTITION = 2;
const WINDOWINGS: Windowing[] = [
  { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 },
  { kind: 'panes', sizeMs: 10_000, slideMs: 5_000 },
  { kind: 'session', gapMs: 3_000 },
];

/** 40 steps of 1.5 s: out-of-order records up to 4 s old, models (series) appearing over time. */
function traffic(seed: number) {
  const random = seededRandom(seed);
  return Array.from({ length: 40 }, (_, step) => {
    const now = step * 1_500;
    const records = Array.from({ length: 6 }, () => {
      const tenant = random() < 0.5 ? 't1' : 't2';
      const model = `m${Math.floor(random() * (2 + step / 8))}`;
      return [tenant, now - 4_000 + Math.floor(random() * 5_000), { model, latency_ms: Math.floor(random() * 900), user: `u${Math.floor(random() * 30)}` }] as const;
    });
    // The watermark trails by 2 s, the allowed lateness is 3 s: windows are open at every checkpoint.
    return { records, watermark: now - 2_000 };
  });
}

/** Runs the traffic, checkpointing after every step and, every `restoreEvery` steps, restoring into a fresh merger. */
async function run(windowing: Windowing, seed: number, restoreEvery?: number) {
  const lines: string[] = [];
  const options: MergerOptions = { allowedLatenessMs: 3_000, expireAfterMs: 600_000, partition: PARTITION };
  const fresh = () => new WindowMerger(groups, windowing, options, sampleEmitter((tenant, samples) => lines.push(...samples.map((s) => sampleLine(tenant, s)))));
  const store = new MemoryCheckpointStore();
  let { epoch } = await store.claim(PARTITION);
  let merger = fresh();
  let restoredWithOpenWindows = 0;
  for (const [step, { records, watermark }] of traffic(seed).entries()) {
    const pre = new PreAggregator(groups, windowing);
    for (const [tenant, t, fields] of records) expect(pre.add(tenant, t, fields)).toBeUndefined();
    for (const p of pre.drain()) expect(merger.addPartial(decodePartial(p.key, encodePartial(p, groups), groups))).toBe('ok');
    merger.advanceWatermark(watermark);
    const { put, remove } = merger.changes(step === 0);
    const entries = new Map(put.map(([field, wire]) => [field, packState(wire)] as const));
    expect(await store.save(PARTITION, epoch, { head: packState(merger.head()), put: entries, remove, replace: step === 0 })).toBe('ok');
    if (restoreEvery !== undefined && step % restoreEvery === restoreEvery - 1) {
      const claimed = await store.claim(PARTITION);
      epoch = claimed.epoch;
      if (claimed.checkpoint?.format !== 'incremental') throw new Error('expected an incremental checkpoint');
      const head = unpackState<MergerHead>(claimed.checkpoint.head);
      if (head.panes.length + head.sessions.length > 0) restoredWithOpenWindows++;
      merger = fresh();
      merger.restoreIncremental(head, [...claimed.checkpoint.entries].map(([field, value]) => [field, unpackState(value)] as const));
    }
  }
  merger.advanceWatermark(1e12);
  return { lines, restoredWithOpenWindows };
}

describe('window merger restored from incremental checkpoints', () => {
  for (const windowing of WINDOWINGS) {
    it(`emits every window of every series as an uninterrupted run (${JSON.stringify(windowing)})`, async () => {
      for (const seed of [3, 8]) {
        const straight = (await run(windowing, seed)).lines;
        // The run is not vacuous: every per-window kind emitted, for series born late too.
        for (const name of ['eo_latency_ms{', 'eo_distinct_users{', 'eo_latency_max_ms{', 'model="m5"']) expect(straight.some((l) => l.includes(name))).toBe(true);
        for (const every of [1, 4]) {
          const restored = await run(windowing, seed, every);
          expect(restored.restoredWithOpenWindows).toBeGreaterThan(0);
          expect(restored.lines).toEqual(straight);
        }
      }
    }, 120_000);
  }
});
