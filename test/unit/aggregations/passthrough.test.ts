import { emitSamples, sampleEmitter } from './flattened.ts';
import { describe, expect, it } from 'vitest';
import { metricSchema } from '../../../src/config/schema.ts';
import { isStaleMarker } from '../../../src/core/stale-marker.ts';
import type { Sample } from '../../../src/core/types.ts';
import { PassthroughAggregator } from '../../../src/operators/aggregations/passthrough.ts';
import { InvalidInput } from '../../../src/operators/aggregations/aggregator.ts';
import { planMetrics, type Windowing } from '../../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger } from '../../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial } from '../../../src/runtime/repartition-codec.ts';

const tumbling: Windowing = { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 };

describe('passthrough keeps NaN and ±Inf, as Prometheus stores them from a scrape', () => {
  it('reads any number, and refuses what is not a number', () => {
    const passthrough = new PassthroughAggregator('forward', 'value');
    expect([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -2].map((value) => passthrough.read({ value }))).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -2,
    ]);
    expect(passthrough.read({ value: '1' })).toEqual(new InvalidInput('forward: field "value" is not a number'));
  });

  it('forwards them from stage 1 over the partials topic to stage 2 and out, none as a stale marker', () => {
    const plan = planMetrics([metricSchema.parse({ name: 'forward', type: 'passthrough' })]);
    const out: Sample[] = [];
    const merger = new WindowMerger(plan, tumbling, { allowedLatenessMs: 0, expireAfterMs: 60_000 }, sampleEmitter((_tenant, samples) => out.push(...samples)));
    const pre = new PreAggregator(plan, tumbling);
    const values: Record<string, number> = { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, ninf: Number.NEGATIVE_INFINITY };
    for (const [series, value] of Object.entries(values)) {
      expect(pre.add('acme', 1_000, { name: 'go_gc_duration_seconds', labels: { quantile: '0.5', series }, value })).toBeUndefined();
    }
    for (const p of pre.drain()) expect(merger.addPartial(decodePartial(p.key, encodePartial(p, plan), plan))).toBe('ok');
    merger.advanceWatermark(10_000);
    const byseries = Object.fromEntries(out.map((s) => [s.labels.find((l) => l.name === 'series')!.value, s.value]));
    expect(byseries).toEqual(values);
    expect(out.some((s) => isStaleMarker(s.value))).toBe(false);
  });

  it('is not refused by another metric whose filter leaves the sample out (gpu-rdma labels XID reports by value)', () => {
    const plan = planMetrics(
      [
        { name: 'forward', type: 'passthrough' },
        { name: 'xid_reports_total', type: 'counter', filter: 'name == "DCGM_FI_DEV_XID_ERRORS" && value > 0.0', labels: { xid: 'value' } },
      ].map((m) => metricSchema.parse(m)),
    );
    const pre = new PreAggregator(plan, tumbling);
    expect(pre.add('acme', 1_000, { name: 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE', labels: { gpu: '1' }, value: Number.NaN })).toBeUndefined();
    expect(pre.add('acme', 1_000, { name: 'DCGM_FI_DEV_XID_ERRORS', labels: { gpu: '1' }, value: 79 })).toBeUndefined();
    expect(pre.drain()).toHaveLength(3);
  });

  it('picks the same value among equal event times whatever the order, NaN included', () => {
    const passthrough = new PassthroughAggregator('forward', 'value');
    const orders = [
      [5, Number.NaN, 7],
      [Number.NaN, 7, 5],
      [7, 5, Number.NaN],
    ];
    const lasts = orders.map((order) => {
      const acc = passthrough.create();
      for (const value of order) passthrough.add(acc, value, 1_000);
      const split = passthrough.create();
      passthrough.add(split, order[0]!, 1_000);
      const rest = passthrough.create();
      for (const value of order.slice(1)) passthrough.add(rest, value, 1_000);
      passthrough.merge(split, rest);
      const emitted = [...emitSamples(passthrough, acc, 10_000, 10), ...emitSamples(passthrough, split, 10_000, 10)];
      return emitted.map((s) => s.value);
    });
    expect(lasts).toEqual([[Number.NaN, Number.NaN], [Number.NaN, Number.NaN], [Number.NaN, Number.NaN]]);
  });
});
