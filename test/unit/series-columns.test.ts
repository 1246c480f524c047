import { describe, expect, it } from 'vitest';
import { metricSchema } from '../../src/config/schema.ts';
import type { MetricPoint } from '../../src/core/metric-model.ts';
import { labelValuesOf } from '../../src/operators/windowed-metrics/merger-snapshot.ts';
import { planMetrics, type Windowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { SeriesColumns } from '../../src/operators/windowed-metrics/series-columns.ts';
import { baseLabels, groupKeyPrefix, isOverflowKey, overflowSeries } from '../../src/operators/windowed-metrics/series-key.ts';
import { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';

const configs = [
    { name: 'requests_total', type: 'counter', labels: { code: 'code', model: 'model' } },
    { name: 'latency_seconds', type: 'histogram', value: 'ms', scale: 0.001, buckets: [0.1, 1], labels: { code: 'code', model: 'model' } },
    { name: 'latency_max_ms', type: 'gauge', aggregate: 'max', value: 'ms', labels: { code: 'code', model: 'model' } },
    { name: 'ttft_seconds', type: 'quantiles', value: 'ms', scale: 0.001, quantiles: [0.5, 0.9], labels: { code: 'code', model: 'model' } },
  { name: 'pushed', type: 'passthrough' },
].map((m) => metricSchema.parse(m));
const groups = planMetrics(configs);

describe('series columns', () => {
  it('gives a new series a fresh row: no data yet, no starts, accumulators as the kinds create them', () => {
    const columns = new SeriesColumns(groups[0]!.aggregators);
    expect([0, 1, 2, 3].map((m) => columns.inRow(m))).toEqual([true, true, false, false]);
    const slot = columns.allocate();
    expect(columns.lastDataEnd(slot)).toBe(Number.NEGATIVE_INFINITY);
    expect(columns.start(slot, 0)).toBeUndefined();
    expect([...columns.load(slot, 1)]).toEqual([...(groups[0]!.aggregators[1]!.create() as Float64Array)]);
  });

  it('keeps every row through growth (the first page, then more pages) and hands a released row out fresh again', () => {
    const columns = new SeriesColumns(groups[0]!.aggregators);
    const slots = Array.from({ length: 2500 }, () => columns.allocate());
    slots.forEach((slot) => {
      columns.setLastDataEnd(slot, slot * 10);
      columns.setStart(slot, 0, slot);
      columns.store(slot, 0, Float64Array.of(slot + 0.5));
    });
    expect(slots.every((slot) => columns.lastDataEnd(slot) === slot * 10 && columns.start(slot, 0) === slot && columns.load(slot, 0)[0] === slot + 0.5)).toBe(true);
    expect(columns.start(7, 1)).toBeUndefined();
    columns.release(7);
    const again = columns.allocate();
    expect(again).toBe(7);
    expect([columns.lastDataEnd(again), columns.start(again, 0), columns.load(again, 0)[0]]).toEqual([Number.NEGATIVE_INFINITY, undefined, 0]);
    expect(columns.load(8, 0)[0]).toBe(8.5);
    // Rows on later pages, and their small integers, stay their own.
    columns.setTouched(2400, 5);
    columns.setTenant(2400, 3);
    expect([columns.lastDataEnd(2400), columns.load(1500, 0)[0], columns.touched(2400), columns.tenant(2400), columns.touched(1400)]).toEqual([24_000, 1500.5, 5, 3, 0]);
  });
});

describe('label values from base labels', () => {
  const fixed = groups[0]!;
  const cases: [string, (string | undefined)[]][] = [
    ['every value', ['500', 'qwen']],
    ['a missing first value', [undefined, 'qwen']],
    ['a missing last value', ['500', undefined]],
    ['none', [undefined, undefined]],
  ];
  for (const [name, values] of cases) {
    it(`are the values the labels were built from: ${name}`, () => {
      const key = `${groupKeyPrefix(0)}acme\u0000${values.map((v) => v ?? '\u0001').join('\u0000')}`;
      expect(labelValuesOf(fixed, baseLabels(fixed, values, key), isOverflowKey(key))).toEqual(values);
    });
  }

  it('keep an overflow series partition, or its absence, and a passthrough series name and labels', () => {
    for (const partition of ['3', undefined]) {
      const overflow = overflowSeries(fixed, 0, 'acme', ['500', 'qwen'], partition);
      expect(labelValuesOf(fixed, baseLabels(fixed, overflow.labelValues, overflow.key), isOverflowKey(overflow.key))).toEqual(overflow.labelValues);
    }
    const dynamic = groups[1]!;
    const values = ['__name__', 'gpu_util', 'gpu', '0', 'node', 'n1'];
    expect(labelValuesOf(dynamic, baseLabels(dynamic, values, 'k'), isOverflowKey('k'))).toEqual(values);
    const overflow = overflowSeries(dynamic, 1, 'acme', values, '2');
    expect(labelValuesOf(dynamic, baseLabels(dynamic, overflow.labelValues, overflow.key), isOverflowKey(overflow.key))).toEqual(overflow.labelValues);
  });
});

describe('a series points', () => {
  it('carry one labels array per series and metric across windows (the sinks cache by it), with exact values', () => {
    const windowing: Windowing = { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 };
    const points: MetricPoint[] = [];
    const plan = planMetrics(configs.slice(0, 4));
    const merger = new WindowMerger(plan, windowing, { allowedLatenessMs: 0, expireAfterMs: 60_000 }, { emit: (_t, p) => points.push(...p) });
    const pre = new PreAggregator(plan, windowing);
    for (let w = 0; w < 3; w++) {
      for (const code of ['200', '500']) for (let r = 0; r < 4; r++) pre.add('acme', w * 10_000 + r, { code, model: 'qwen', ms: 100 * (r + 1) });
      for (const p of pre.drain()) merger.addPartial(p);
      merger.advanceWatermark((w + 1) * 10_000);
    }
    const of = (name: string, code: string) => points.filter((p) => p.metric.name === name && p.labels.some((l) => l.name === 'code' && l.value === code));
    for (const name of ['requests_total', 'latency_seconds', 'latency_max_ms', 'ttft_seconds']) {
      for (const code of ['200', '500']) {
        const mine = of(name, code);
        expect(mine.length).toBeGreaterThanOrEqual(3);
        const distinct = new Set(mine.map((p) => p.labels));
        expect(distinct.size).toBe(name === 'ttft_seconds' ? 2 : 1);
      }
    }
    expect(of('requests_total', '500').map((p) => p.value)).toEqual([4, 8, 12]);
    expect(of('requests_total', '200')[0]!.labels).toEqual([{ name: 'code', value: '200' }, { name: 'model', value: 'qwen' }]);
    expect(of('latency_seconds', '200').map((p) => (p.value as { count: number }).count)).toEqual([4, 8, 12]);
  });
});
