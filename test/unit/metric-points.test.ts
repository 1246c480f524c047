import { describe, expect, it } from 'vitest';
import { metricSchema } from '../../src/config/schema.ts';
import type { MetricPoint } from '../../src/core/metric-model.ts';
import { planMetrics, type Windowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger, type MergerSnapshot } from '../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial, packState, unpackState } from '../../src/runtime/repartition-codec.ts';

const metrics = [
  { name: 'requests_total', type: 'counter', help: 'Requests served.', unit: '{request}', labels: { model: 'model' } },
  { name: 'latency_seconds', type: 'histogram', help: 'Latency.', unit: 's', value: 'ms', scale: 0.001, buckets: [0.1, 1], labels: { model: 'model' } },
  { name: 'latency_ms', type: 'quantiles', value: 'ms', quantiles: [0.5], labels: { model: 'model' } },
  { name: 'latency_max_ms', type: 'gauge', aggregate: 'max', value: 'ms', labels: { model: 'model' } },
].map((m) => metricSchema.parse(m));
const groups = planMetrics(metrics);
const tumbling: Windowing = { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 };
const options = { allowedLatenessMs: 0, expireAfterMs: 20_000 };

function harness() {
  const out: MetricPoint[] = [];
  const merger = new WindowMerger(groups, tumbling, options, { emit: (_tenant, points) => out.push(...points) });
  const send = (t: number, record: Record<string, unknown>) => {
    const pre = new PreAggregator(groups, tumbling);
    expect(pre.add('acme', t, record)).toBeUndefined();
    for (const p of pre.drain()) expect(merger.addPartial(decodePartial(p.key, encodePartial(p, groups), groups))).toBe('ok');
  };
  return { merger, out, send };
}

/** `name type start→ts value` for each point of a metric. */
function summary(points: readonly MetricPoint[], name: string): string[] {
  return points
    .filter((p) => p.metric.name === name)
    .map((p) => `${p.metric.type} ${p.startTimestampMs ?? '-'}→${p.timestampMs} ${p.value === undefined ? 'stale' : JSON.stringify(p.value)}`);
}

describe('stage 2 emits metric points', () => {
  it('describes each configured metric once (name, type, unit, help) and shares it across series and windows', () => {
    const { merger, out, send } = harness();
    send(1_000, { model: 'a', ms: 50 });
    send(2_000, { model: 'b', ms: 500 });
    merger.advanceWatermark(20_000);
    const counters = out.filter((p) => p.metric.name === 'requests_total');
    expect(counters.length).toBe(4); // 2 series × 2 windows
    expect(new Set(counters.map((p) => p.metric)).size).toBe(1);
    expect(counters[0]!.metric).toEqual({ name: 'requests_total', type: 'counter', unit: '{request}', help: 'Requests served.' });
    expect(out.find((p) => p.metric.name === 'latency_seconds')!.metric).toEqual({ name: 'latency_seconds', type: 'histogram', unit: 's', help: 'Latency.', bounds: [0.1, 1] });
    expect(out.find((p) => p.metric.name === 'latency_ms')!.metric.type).toBe('gauge');
    expect(counters[0]!.labels).toEqual([{ name: 'model', value: 'a' }]);
  });

  it('gives counters and histograms the start of their running total, per-bucket counts, and no start on gauges', () => {
    const { merger, out, send } = harness();
    send(12_000, { model: 'a', ms: 50 });
    send(31_000, { model: 'a', ms: 2_000 });
    merger.advanceWatermark(40_000);
    expect(summary(out, 'requests_total')).toEqual(['counter 10000→20000 1', 'counter 10000→30000 1', 'counter 10000→40000 2']);
    expect(summary(out, 'latency_seconds').at(-1)).toBe('histogram 10000→40000 {"bounds":[0.1,1],"bucketCounts":[1,0,1],"sum":2.05,"count":2}');
    expect(summary(out, 'latency_max_ms')).toEqual(['gauge -→20000 50', 'gauge -→40000 2000']);
  });

  it('keeps a series\' start across a checkpoint restore and when it returns from retained totals, and ends it with stale points', () => {
    const { merger, out, send } = harness();
    send(12_000, { model: 'a', ms: 50 });
    merger.advanceWatermark(20_000);
    const snapshot = unpackState<MergerSnapshot>(packState(merger.snapshot()));
    const restored = new WindowMerger(groups, tumbling, options, { emit: (_tenant, points) => out.push(...points) });
    restored.restore(snapshot);
    out.length = 0;
    restored.advanceWatermark(50_000); // no data since 20 s: expires at 40 s
    expect(summary(out, 'requests_total')).toEqual(['counter 10000→30000 1', 'counter -→40000 stale']);
    expect(summary(out, 'latency_seconds').at(-1)).toBe('histogram -→40000 stale');
    expect(summary(out, 'latency_ms')).toEqual(['gauge -→40000 stale']);
    // It returns: resumed from its retained total, with its original start, also through a restore.
    const again = new WindowMerger(groups, tumbling, options, { emit: (_tenant, points) => out.push(...points) });
    again.restore(unpackState<MergerSnapshot>(packState(restored.snapshot())));
    out.length = 0;
    const pre = new PreAggregator(groups, tumbling);
    expect(pre.add('acme', 61_000, { model: 'a', ms: 50 })).toBeUndefined();
    for (const p of pre.drain()) again.addPartial(decodePartial(p.key, encodePartial(p, groups), groups));
    again.advanceWatermark(70_000);
    expect(summary(out, 'requests_total')).toEqual(['counter 10000→70000 2']);
  });

  it('starts a series restored from a checkpoint written before starts were kept at its next window', () => {
    const { merger, send } = harness();
    send(12_000, { model: 'a', ms: 50 });
    merger.advanceWatermark(20_000);
    const snapshot = merger.snapshot();
    const old: MergerSnapshot = { ...snapshot, series: snapshot.series.map(([g, k, t, v, e, c, touched]) => [g, k, t, v, e, c, touched]) };
    const out: MetricPoint[] = [];
    const restored = new WindowMerger(groups, tumbling, options, { emit: (_tenant, points) => out.push(...points) });
    restored.restore(unpackState<MergerSnapshot>(packState(old)));
    restored.advanceWatermark(30_000);
    expect(summary(out, 'requests_total')).toEqual(['counter 20000→30000 1']);
  });
});
