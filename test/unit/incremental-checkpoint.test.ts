import { describe, expect, it } from 'vitest';
import { metricSchema } from '../../src/config/schema.ts';
import { planMetrics, type Windowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger, type MergerHead, type MergerOptions } from '../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial, packState, unpackState } from '../../src/runtime/repartition-codec.ts';
import { MemoryCheckpointStore, type StoredCheckpoint } from '../../src/state/checkpoint-store.ts';
import { sampleEmitter, sampleLine } from './aggregations/flattened.ts';
import { seededRandom } from '../support/seeded-random.ts';

/**
 * Incremental checkpoints of stage 2's merger: after any sequence of checkpoints that each write
 * only what changed, a restore gives exactly the state (and so the samples) of the merger that
 * wrote them, and a checkpoint after little traffic writes little.
 */

// Counters and histograms keep their accumulators on emit; a counter rate changes its spans.
const metrics = [
  { name: 'requests_total', type: 'counter', labels: { code: 'code' } },
  { name: 'latency_seconds', type: 'histogram', value: 'ms', scale: 0.001, buckets: [0.1, 1], labels: { code: 'code' } },
  { name: 'latency_max_ms', type: 'gauge', aggregate: 'max', value: 'ms', labels: { code: 'code' } },
  { name: 'bytes_total', type: 'counter_rate', value: 'bytes', members: ['member'], member_expiry: '15s', labels: { code: 'code' } },
].map((m) => metricSchema.parse(m));
const groups = planMetrics(metrics);
const tumbling: Windowing = { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 };
const PARTITION = 0;

function harness(options: Partial<MergerOptions>, plan = groups) {
  const out: string[] = [];
  const merger = new WindowMerger(plan, tumbling, { allowedLatenessMs: 0, expireAfterMs: 20_000, ...options }, sampleEmitter((tenant, samples) => out.push(...samples.map((s) => sampleLine(tenant, s)))));
  const send = (records: [string, number, Record<string, unknown>][]) => {
    const pre = new PreAggregator(plan, tumbling);
    for (const [tenant, t, fields] of records) expect(pre.add(tenant, t, fields)).toBeUndefined();
    for (const p of pre.drain()) expect(merger.addPartial(decodePartial(p.key, encodePartial(p, plan), plan))).toBe('ok');
  };
  return { merger, out, send };
}

/** Writes the merger's changes (all of them if `all`) as stage 2 does: entries through msgpack. */
async function checkpoint(store: MemoryCheckpointStore, epoch: number, merger: WindowMerger, all: boolean): Promise<number> {
  const { put, remove } = merger.changes(all);
  const entries = new Map(put.map(([field, wire]) => [field, packState(wire)] as const));
  expect(await store.save(PARTITION, epoch, { head: packState(merger.head()), put: entries, remove, replace: all })).toBe('ok');
  return put.length;
}

function restore(into: WindowMerger, stored: StoredCheckpoint | undefined): void {
  if (stored?.format !== 'incremental') throw new Error('expected an incremental checkpoint');
  into.restoreIncremental(unpackState<MergerHead>(stored.head), [...stored.entries].map(([field, value]) => [field, unpackState(value)] as const));
}

/**
 * A merger's full snapshot, its retained totals grouped by tenant: their order within a tenant
 * decides which are dropped first, the order of tenants decides nothing.
 */
function comparable(merger: WindowMerger) {
  const snapshot = merger.snapshot();
  return { ...snapshot, retired: [...(snapshot.retired ?? [])].sort((a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0)) };
}

/** Random traffic: codes come and go (series born, expired, returning, folded), three tenants. */
function traffic(seed: number) {
  const random = seededRandom(seed);
  return Array.from({ length: 50 }, (_, step) => {
    const base = step * 4_000;
    const records: [string, number, Record<string, unknown>][] = [];
    for (let i = 0; i < 10; i++) {
      const tenant = ['acme', 'globex', 'initech'][Math.floor(random() * 3)]!;
      const code = `c${Math.floor(random() * (step < 25 ? 6 : 20))}`;
      records.push([tenant, base + Math.floor(random() * 4_000), { code, ms: Math.floor(random() * 2_000), bytes: step * 100 + i, member: `m${i % 3}` }]);
    }
    return { records, watermark: base };
  });
}

describe('incremental checkpoints of the window merger', () => {
  const options: Partial<MergerOptions> = { seriesBudget: (tenant) => (tenant === 'acme' ? 3 : 6) * 25, expireAfterMs: 30_000, partition: PARTITION };

  it('restores from the changes alone exactly the state and samples of an uninterrupted run', async () => {
    const steps = traffic(11);
    const run = async (restoreAt: number | undefined) => {
      const store = new MemoryCheckpointStore();
      let epoch = (await store.claim(PARTITION)).epoch;
      let current = harness(options);
      let first = true;
      for (const [i, { records, watermark }] of steps.entries()) {
        if (i === restoreAt) {
          const claimed = await store.claim(PARTITION);
          epoch = claimed.epoch;
          const restored = harness(options);
          restore(restored.merger, claimed.checkpoint);
          // The restored state is the state that wrote the checkpoint, order included.
          expect(comparable(restored.merger)).toEqual(comparable(current.merger));
          restored.out.push(...current.out);
          current = restored;
        }
        current.send(records);
        current.merger.advanceWatermark(watermark);
        await checkpoint(store, epoch, current.merger, first);
        first = false;
      }
      current.merger.advanceWatermark(1e9);
      return { out: current.out, retained: current.merger.retainedCount };
    };
    const straight = await run(undefined);
    // The traffic exercises what the entries must follow: folding, expiry and returns.
    expect(straight.out.some((l) => l.includes('otel_metric_overflow'))).toBe(true);
    expect(straight.out.some((l) => l.endsWith('stale @40000') || l.includes(' stale '))).toBe(true);
    expect(straight.retained).toBeGreaterThan(0);
    for (const at of [3, 14, 27, 38, 49]) expect(await run(at)).toEqual(straight);
  }, 60_000);

  it('writes only the series a window changed, and everything again when asked', async () => {
    const store = new MemoryCheckpointStore();
    const { epoch } = await store.claim(PARTITION);
    // Counters and histograms only: their emits leave the accumulators as they were.
    const counting = harness({ partition: PARTITION, expireAfterMs: 1e9 }, planMetrics(metrics.filter((m) => m.type !== 'counter_rate')));
    const codes = Array.from({ length: 40 }, (_, i) => `c${i}`);
    counting.send(codes.map((code, i) => ['acme', 1_000 + i, { code, ms: 5, bytes: 1, member: 'm' }]));
    counting.merger.advanceWatermark(10_000);
    const everything = await checkpoint(store, epoch, counting.merger, true);
    expect(everything).toBeGreaterThanOrEqual(40);

    // One series has data in the next window: one entry changes, the 39 others are not rewritten.
    counting.send([['acme', 12_000, { code: 'c7', ms: 5, bytes: 2, member: 'm' }]]);
    counting.merger.advanceWatermark(20_000);
    const { put, remove } = counting.merger.changes(false);
    expect(put).toHaveLength(1);
    expect(remove).toEqual([]);
    // Asked for everything (after a failed write), it writes every series again.
    expect(counting.merger.changes(true).put).toHaveLength(everything);
  });

  it('turns a checkpoint of the previous format (one snapshot) into entries that restore the same state', async () => {
    const steps = traffic(5);
    const source = harness(options);
    for (const { records, watermark } of steps.slice(0, 30)) {
      source.send(records);
      source.merger.advanceWatermark(watermark);
    }
    const blob = unpackState<ReturnType<WindowMerger['snapshot']>>(packState(source.merger.snapshot()));
    const migrated = harness(options);
    migrated.merger.restore(blob);
    const store = new MemoryCheckpointStore();
    const { epoch } = await store.claim(PARTITION);
    await checkpoint(store, epoch, migrated.merger, true);
    const restored = harness(options);
    restore(restored.merger, (await store.claim(PARTITION)).checkpoint);
    expect(comparable(restored.merger)).toEqual(comparable(source.merger));
    for (const h of [source, restored]) {
      h.out.length = 0;
      for (const { records, watermark } of steps.slice(30)) {
        h.send(records);
        h.merger.advanceWatermark(watermark);
      }
    }
    expect(restored.out).toEqual(source.out);
  });
});
