import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../../src/core/metric-model.ts';
import { describeMetric } from '../../../src/operators/aggregations/aggregator.ts';
import type { WindowContext } from '../../../src/operators/aggregations/series-state.ts';
import { AnomalyAggregator } from '../../../src/operators/anomaly/aggregation.ts';
import { AnomalyDetector, anomalyConfig } from '../../../src/operators/anomaly/index.ts';

const WINDOW = 60_000;
const detector = anomalyConfig({ learn_points: 5 });
const summary = describeMetric('latency_seconds', 'summary');
const gauge = describeMetric('latency_p', 'gauge');
const model = [{ name: 'model', value: 'm1' }];

/** The scores the anomaly kind emits over 40 windows whose input points `pointsOf` gives (undefined: it emitted nothing). */
function scores(inputLabels: Record<string, string>, pointsOf: (w: number) => MetricPoint[]): (number | undefined)[] {
  const aggregator = new AnomalyAggregator({ name: 'latency_anomaly', input: 'latency_seconds', inputLabels, detector });
  const state = aggregator.createSeriesState();
  const targets = aggregator.targets(model);
  const ctx: WindowContext = { tenant: 'acme', seriesKey: 'k', windowStartMs: 0, windowEndMs: 0, windowSeconds: 60, seriesStartMs: 0, event: () => {} };
  return Array.from({ length: 40 }, (_, w) => {
    const out = pointsOf(w);
    const inputs = out.length;
    ctx.windowStartMs = w * WINDOW;
    ctx.windowEndMs = (w + 1) * WINDOW;
    if (!aggregator.emitWindow(undefined, state, 0, inputs, targets, ctx, out)) return undefined;
    expect(out.length).toBe(inputs + 2);
    return out[inputs]!.value as number;
  });
}

/** What a detector on its own scores for the values `valueOf` gives. */
function expected(valueOf: (w: number) => number): number[] {
  const alone = new AnomalyDetector(detector);
  return Array.from({ length: 40 }, (_, w) => alone.update(valueOf(w), (w + 1) * WINDOW).score);
}

const p50 = (w: number) => 100 + (w % 5);
const p95 = (w: number) => 200 + ((w * 7) % 11) + (w === 30 ? 500 : 0);
const summaryPoint = (w: number): MetricPoint => ({
  metric: summary,
  labels: model,
  timestampMs: 0,
  value: { quantiles: [{ quantile: 0.5, value: p50(w) }, { quantile: 0.95, value: p95(w) }], count: 10, sum: 1000 },
});

describe('anomaly kind: which of the input points it scores', () => {
  it('picks a summary’s quantile by the quantile input label, the first quantile without one', () => {
    expect(scores({ quantile: '0.95' }, (w) => [summaryPoint(w)])).toEqual(expected(p95));
    expect(scores({}, (w) => [summaryPoint(w)])).toEqual(expected(p50));
  });

  it('scores nothing for a quantile the summary lacks, or one not written as JavaScript writes the number', () => {
    expect(scores({ quantile: '0.9' }, (w) => [summaryPoint(w)]).every((s) => s === undefined)).toBe(true);
    expect(scores({ quantile: '0.950' }, (w) => [summaryPoint(w)]).every((s) => s === undefined)).toBe(true);
  });

  it('picks the first point whose labels carry the input labels', () => {
    const points = (w: number): MetricPoint[] => [
      { metric: gauge, labels: [...model, { name: 'quantile', value: '0.5' }], timestampMs: 0, value: p50(w) },
      { metric: gauge, labels: [...model, { name: 'quantile', value: '0.95' }], timestampMs: 0, value: p95(w) },
    ];
    expect(scores({ quantile: '0.95' }, points)).toEqual(expected(p95));
    expect(scores({ quantile: '0.5', model: 'm1' }, points)).toEqual(expected(p50));
    expect(scores({ model: 'm2' }, points).every((s) => s === undefined)).toBe(true);
  });
});
