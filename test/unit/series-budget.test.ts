import { sampleEmitter, sampleLine } from './aggregations/flattened.ts';
import { describe, expect, it } from 'vitest';
import { metricSchema } from '../../src/config/schema.ts';
import type { PartialAggregate } from '../../src/operators/windowed-metrics/partial.ts';
import { planMetrics, type SeriesGroupPlan, type Windowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { taskShare } from '../../src/operators/windowed-metrics/series-budget.ts';
import { WindowMerger, type MergerOptions } from '../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial, packState, unpackState } from '../../src/runtime/repartition-codec.ts';
import { seededRandom } from '../support/seeded-random.ts';

// One key of this group stands for 1 + (3 le + sum + count) + 1 = 7 series at the receiver.
const metrics = [
  { name: 'requests_total', type: 'counter', labels: { code: 'code' } },
  { name: 'latency_seconds', type: 'histogram', value: 'ms', scale: 0.001, buckets: [0.1, 1], labels: { code: 'code' } },
  { name: 'latency_max_ms', type: 'gauge', aggregate: 'max', value: 'ms', labels: { code: 'code' } },
].map((m) => metricSchema.parse(m));
const groups = planMetrics(metrics);
const tumbling: Windowing = { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 };
const KEY_COST = 7;

/** Samples as `tenant name{labels} value @ts`. */
const line = sampleLine;

function harness(options: Partial<MergerOptions> = {}, plan: SeriesGroupPlan[] = groups, windowing: Windowing = tumbling) {
  const out: string[] = [];
  const folded: string[] = [];
  const dropped: string[] = [];
  const merger = new WindowMerger(
    plan,
    windowing,
    {
      allowedLatenessMs: 0,
      expireAfterMs: 20_000,
      onFolded: (tenant) => folded.push(tenant),
      onTotalsDropped: (tenant) => dropped.push(tenant),
      ...options,
    },
    sampleEmitter((tenant, samples) => out.push(...samples.map((s) => line(tenant, s)))),
  );
  /** Records as stage 1 would combine them, shipped over the wire format to the merger. */
  const send = (records: [tenant: string, t: number, fields: Record<string, unknown>][]) => {
    const pre = new PreAggregator(plan, windowing);
    for (const [tenant, t, fields] of records) expect(pre.add(tenant, t, fields)).toBeUndefined();
    for (const p of pre.drain()) expect(merger.addPartial(decodePartial(p.key, encodePartial(p, plan), plan))).toBe('ok');
  };
  return { merger, out, folded, dropped, send };
}

describe('series budget (limits.max_state_series)', () => {
  it('folds new series beyond the budget into one overflow series per metric, values merged', () => {
    const h = harness({ seriesBudget: () => 2 * KEY_COST });
    h.send([
      ['acme', 1_000, { code: 'a', ms: 50 }],
      ['acme', 2_000, { code: 'b', ms: 500 }],
      ['acme', 3_000, { code: 'c', ms: 5_000 }],
      ['acme', 4_000, { code: 'd', ms: 70 }],
      ['acme', 5_000, { code: 'c', ms: 20 }],
      ['globex', 6_000, { code: 'z', ms: 1 }], // another tenant has its own budget
    ]);
    h.merger.advanceWatermark(10_000);
    const acme = h.out.filter((l) => l.startsWith('acme'));
    expect(acme.filter((l) => l.includes('code="a"') || l.includes('code="b"'))).toHaveLength(2 * KEY_COST);
    expect(acme.filter((l) => l.includes('code="c"') || l.includes('code="d"'))).toEqual([]);
    expect(acme.filter((l) => l.includes('otel_metric_overflow')).sort()).toEqual(
      [
        'acme requests_total{otel_metric_overflow="true"} 3 @10000',
        'acme latency_seconds_bucket{le="0.1",otel_metric_overflow="true"} 2 @10000',
        'acme latency_seconds_bucket{le="1",otel_metric_overflow="true"} 2 @10000',
        'acme latency_seconds_bucket{le="+Inf",otel_metric_overflow="true"} 3 @10000',
        'acme latency_seconds_sum{otel_metric_overflow="true"} 5.09 @10000',
        'acme latency_seconds_count{otel_metric_overflow="true"} 3 @10000',
        'acme latency_max_ms{otel_metric_overflow="true"} 5000 @10000',
      ].sort(),
    );
    expect(h.out.filter((l) => l.startsWith('globex requests_total'))).toEqual(['globex requests_total{code="z"} 1 @10000']);
    expect(h.folded).toEqual(['acme', 'acme']); // one partial per folded series and window
    expect(h.merger.seriesCount).toBe(4); // a, b, acme's overflow, z
  });

  it('names its stage-2 partition on the overflow series: each partition folds on its own', () => {
    const h = harness({ seriesBudget: () => KEY_COST, partition: 3 });
    h.send([
      ['acme', 1_000, { code: 'a', ms: 1 }],
      ['acme', 2_000, { code: 'b', ms: 1 }],
    ]);
    h.merger.advanceWatermark(10_000);
    expect(h.out.filter((l) => l.includes('requests_total'))).toEqual([
      'acme requests_total{code="a"} 1 @10000',
      'acme requests_total{otel_metric_overflow="true",sluice_partition="3"} 1 @10000',
    ]);
    const restored = harness({ seriesBudget: () => KEY_COST, partition: 3 });
    restored.merger.restore(unpackState(packState(h.merger.snapshot())));
    restored.merger.advanceWatermark(20_000);
    expect(restored.out.filter((l) => l.includes('requests_total'))).toEqual([
      'acme requests_total{code="a"} 1 @20000',
      'acme requests_total{otel_metric_overflow="true",sluice_partition="3"} 1 @20000',
    ]);
  });

  it('admits a new series once an expired one has freed its place', () => {
    const h = harness({ seriesBudget: () => KEY_COST });
    h.send([['acme', 1_000, { code: 'a', ms: 1 }]]);
    h.merger.advanceWatermark(10_000);
    h.send([['acme', 15_000, { code: 'b', ms: 1 }]]); // a still holds the budget: folded
    h.merger.advanceWatermark(30_000); // a expires at 30 s
    h.send([['acme', 35_000, { code: 'c', ms: 1 }]]);
    h.merger.advanceWatermark(40_000);
    const requests = h.out.filter((l) => l.includes('requests_total'));
    expect(requests).toEqual([
      'acme requests_total{code="a"} 1 @10000',
      'acme requests_total{code="a"} 1 @20000',
      'acme requests_total{otel_metric_overflow="true"} 1 @20000',
      'acme requests_total{code="a"} stale @30000',
      'acme requests_total{otel_metric_overflow="true"} 1 @30000',
      'acme requests_total{otel_metric_overflow="true"} stale @40000',
      'acme requests_total{code="c"} 1 @40000',
    ]);
  });

  it('keeps passthrough overflow per metric name, and static labels that tell metrics apart', () => {
    const plan = planMetrics(
      [
        { name: 'tokens_total', type: 'counter', value: 'in', static_labels: { type: 'input' }, labels: { model: 'model' } },
        { name: 'tokens_total', type: 'counter', value: 'out', static_labels: { type: 'output' }, labels: { model: 'model' } },
        { name: 'forward', type: 'passthrough' },
      ].map((m) => metricSchema.parse(m)),
    );
    // A key of the counter group stands for 2 series, a passthrough key for 1.
    const h = harness({ seriesBudget: () => 3 }, plan);
    h.send([
      ['acme', 1_000, { model: 'm1', in: 1, out: 2, name: 'gpu_util', labels: { gpu: '0' }, value: 40 }],
      ['acme', 2_000, { model: 'm2', in: 10, out: 20, name: 'gpu_util', labels: { gpu: '1' }, value: 60 }],
    ]);
    h.merger.advanceWatermark(10_000);
    expect(h.out.sort()).toEqual(
      [
        'acme tokens_total{model="m1",type="input"} 1 @10000',
        'acme tokens_total{model="m1",type="output"} 2 @10000',
        'acme gpu_util{gpu="0"} 40 @10000',
        'acme tokens_total{otel_metric_overflow="true",type="input"} 10 @10000',
        'acme tokens_total{otel_metric_overflow="true",type="output"} 20 @10000',
        'acme gpu_util{otel_metric_overflow="true"} 60 @10000',
      ].sort(),
    );
  });

  it('folds session fragments too, and gives the budget back for a late one', () => {
    const session: Windowing = { kind: 'session', gapMs: 5_000 };
    const h = harness({ seriesBudget: () => KEY_COST, expireAfterMs: 100_000 }, groups, session);
    h.send([['acme', 1_000, { code: 'a', ms: 1 }]]);
    h.merger.advanceWatermark(60_000);
    // A late fragment of a new series: refused, and it must not hold the budget.
    const pre = new PreAggregator(groups, session);
    pre.add('acme', 2_000, { code: 'late', ms: 1 });
    expect(h.merger.addPartial(pre.drain()[0]!)).toBe('late');
    h.send([['acme', 70_000, { code: 'b', ms: 1 }]]); // a still holds the budget: folded
    h.merger.advanceWatermark(120_000); // a expires (6 s + 100 s)
    h.send([['acme', 130_000, { code: 'c', ms: 1 }]]);
    h.merger.advanceWatermark(300_000);
    expect(h.out.filter((l) => l.includes('requests_total'))).toEqual([
      'acme requests_total{code="a"} 1 @6000',
      'acme requests_total{otel_metric_overflow="true"} 1 @75000',
      'acme requests_total{code="a"} stale @106000',
      'acme requests_total{code="c"} 1 @135000',
      'acme requests_total{otel_metric_overflow="true"} stale @175000',
      'acme requests_total{code="c"} stale @235000',
    ]);
  });

  it('decides the same on a replay from any snapshot: the budget follows the restored state', () => {
    // Random traffic over many codes and three tenants, a tight budget and a short expiry, so
    // series are born, folded, expired and readmitted all the time.
    const steps: { records: [string, number, Record<string, unknown>][]; watermark: number }[] = [];
    const random = seededRandom(7);
    for (let step = 0; step < 60; step++) {
      const base = step * 4_000;
      const records: [string, number, Record<string, unknown>][] = [];
      for (let i = 0; i < 12; i++) {
        const tenant = ['acme', 'globex', 'initech'][Math.floor(random() * 3)]!;
        records.push([tenant, base + Math.floor(random() * 4_000), { code: `c${Math.floor(random() * (step < 30 ? 8 : 30))}`, ms: Math.floor(random() * 2_000) }]);
      }
      steps.push({ records, watermark: base });
    }
    const options: Partial<MergerOptions> = { seriesBudget: (tenant) => (tenant === 'acme' ? 3 : 5) * KEY_COST, expireAfterMs: 30_000 };
    const run = (snapshotAt: number | undefined) => {
      const first = harness(options);
      let current = first;
      steps.forEach(({ records, watermark }, i) => {
        if (i === snapshotAt) {
          const restored = harness(options);
          // Through msgpack, as the checkpoint goes to Redis.
          restored.merger.restore(unpackState(packState(current.merger.snapshot())));
          restored.out.push(...current.out);
          restored.folded.push(...current.folded);
          current = restored;
        }
        current.send(records);
        current.merger.advanceWatermark(watermark);
      });
      current.merger.advanceWatermark(1e9);
      return { out: current.out, folded: current.folded.length, retained: current.merger.retainedCount };
    };
    const straight = run(undefined);
    expect(straight.folded).toBeGreaterThan(20);
    expect(straight.out.some((l) => l.includes('otel_metric_overflow'))).toBe(true);
    for (const at of [5, 17, 31, 44, 59]) expect(run(at)).toEqual(straight);
  }, 30_000); // six runs of 60 steps: seconds on a loaded 2-core machine
});

describe('cumulative series across expiry', () => {
  it('resumes a counter and a histogram from their totals when the series returns', () => {
    const h = harness();
    h.send([
      ['acme', 1_000, { code: 'InvalidApiKey', ms: 250 }],
      ['acme', 2_000, { code: 'InvalidApiKey', ms: 500 }],
    ]);
    h.merger.advanceWatermark(40_000); // no data since 10 s: stale at 30 s, totals kept
    expect(h.merger.seriesCount).toBe(0);
    expect(h.merger.retainedCount).toBe(1);
    h.send([
      ['acme', 45_000, { code: 'InvalidApiKey', ms: 4_000 }],
      ['acme', 46_000, { code: 'InvalidApiKey', ms: 4_000 }],
      ['acme', 47_000, { code: 'InvalidApiKey', ms: 250 }],
    ]);
    h.merger.advanceWatermark(50_000);
    const at = (ts: number) => h.out.filter((l) => l.endsWith(`@${ts}`) && !l.includes('latency_max'));
    expect(at(30_000)).toHaveLength(6);
    expect(at(30_000).every((l) => l.includes(' stale '))).toBe(true);
    // Old total 2, then 3 more: 5, never 3 (which Prometheus would read as an increase of 1).
    expect(at(50_000)).toEqual([
      'acme requests_total{code="InvalidApiKey"} 5 @50000',
      'acme latency_seconds_bucket{code="InvalidApiKey",le="0.1"} 0 @50000',
      'acme latency_seconds_bucket{code="InvalidApiKey",le="1"} 3 @50000',
      'acme latency_seconds_bucket{code="InvalidApiKey",le="+Inf"} 5 @50000',
      'acme latency_seconds_sum{code="InvalidApiKey"} 9 @50000',
      'acme latency_seconds_count{code="InvalidApiKey"} 5 @50000',
    ]);
    expect(h.merger.retainedCount).toBe(0);
  });

  it('keeps retained totals within the budget, dropping the oldest first and counting it', () => {
    const h = harness({ seriesBudget: () => 2 * KEY_COST });
    // Totals are kept for the cumulative series only: 6 of the 7 per key.
    h.send([
      ['acme', 1_000, { code: 'a', ms: 1 }],
      ['acme', 11_000, { code: 'b', ms: 1 }],
      ['acme', 21_000, { code: 'c', ms: 1 }],
    ]);
    h.merger.advanceWatermark(60_000);
    expect(h.merger.retainedCount).toBe(2); // 3 × 6 > 14: a, the oldest, was dropped
    expect(h.dropped).toEqual(['acme']);
    h.send([
      ['acme', 61_000, { code: 'a', ms: 1 }],
      ['acme', 61_000, { code: 'b', ms: 1 }],
    ]);
    h.merger.advanceWatermark(70_000);
    expect(h.out.filter((l) => l.includes('requests_total') && l.endsWith('@70000'))).toEqual([
      'acme requests_total{code="a"} 1 @70000', // restarts: its totals were dropped
      'acme requests_total{code="b"} 2 @70000', // resumes
    ]);
  });

  it('restores checkpoints written before totals were retained', () => {
    const h = harness();
    h.send([['acme', 1_000, { code: 'a', ms: 1 }]]);
    h.merger.advanceWatermark(10_000);
    const { retired: _retired, ...older } = h.merger.snapshot();
    const restored = harness();
    restored.merger.restore(older);
    restored.merger.advanceWatermark(20_000);
    expect(restored.out.filter((l) => l.includes('requests_total'))).toEqual(['acme requests_total{code="a"} 1 @20000']);
  });
});

describe('taskShare', () => {
  it('splits a tenant limit over the stage-2 partitions, rounding up', () => {
    expect(taskShare(100_000, 6)).toBe(16_667);
    expect(taskShare(5, 6)).toBe(1);
  });
});
