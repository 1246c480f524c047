import { describe, expect, it } from 'vitest';
import type { MetricConfig } from '../../src/config/schema.ts';
import type { Sample } from '../../src/core/types.ts';
import { TumblingWindows } from '../../src/operators/tumbling-window.ts';
import { planMetrics } from '../../src/operators/windowed-metrics/plan.ts';
import { WindowedMetricsOperator } from '../../src/operators/windowed-metrics/operator.ts';

const metrics: MetricConfig[] = [
  { name: 'requests_total', type: 'counter', help: '', labels: { model: 'model', code: 'error_code' } },
  { name: 'tokens_total', type: 'counter', help: '', value: 'tokens', labels: { model: 'model', code: 'error_code' } },
  { name: 'latency_seconds', type: 'histogram', help: '', value: 'ms', scale: 0.001, buckets: [0.1, 1], labels: { model: 'model' } },
];

function harness(allowedLatenessMs = 0) {
  const out: { tenant: string; samples: Sample[] }[] = [];
  const operator = new WindowedMetricsOperator(planMetrics(metrics), { windowSizeMs: 10_000, allowedLatenessMs }, {
    emit: (tenant, samples) => out.push({ tenant, samples }),
  });
  /** Emitted samples flattened to `tenant name{labels} value @ts`, for readable exact assertions. */
  const lines = () =>
    out.flatMap(({ tenant, samples }) =>
      samples.map((s) => {
        const name = s.labels.find((l) => l.name === '__name__')!.value;
        const labels = s.labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}="${l.value}"`).join(',');
        return `${tenant} ${name}{${labels}} ${s.value} @${s.timestampMs}`;
      }),
    );
  return { operator, out, lines };
}

describe('tumbling windows', () => {
  it('aligns windows to the epoch', () => {
    const windows = new TumblingWindows(10_000);
    expect(windows.startOf(0)).toBe(0);
    expect(windows.startOf(9_999)).toBe(0);
    expect(windows.startOf(10_000)).toBe(10_000);
    expect(windows.startOf(1_790_000_012_345)).toBe(1_790_000_010_000);
    expect(windows.startOf(-1)).toBe(-10_000);
    expect(windows.endOf(10_000)).toBe(20_000);
  });
});

describe('windowed metrics operator', () => {
  it('fires each window once, in order, with cumulative values stamped at the window end', () => {
    const { operator, lines } = harness();
    expect(operator.process('acme', 12_000, { model: 'm1', tokens: 5, ms: 50 })).toBeUndefined();
    expect(operator.process('acme', 3_000, { model: 'm1', tokens: 2, ms: 500, error_code: 'Throttling' })).toBeUndefined();
    expect(operator.process('globex', 15_000, { model: 'm2', tokens: 1, ms: 5_000 })).toBeUndefined();
    operator.advanceWatermark(9_999);
    expect(lines()).toEqual([]);
    operator.advanceWatermark(20_000);
    operator.advanceWatermark(20_000); // no re-firing
    expect(lines()).toEqual([
      // window [0, 10s): only the throttled acme call
      'acme requests_total{code="Throttling",model="m1"} 1 @10000',
      'acme tokens_total{code="Throttling",model="m1"} 2 @10000',
      'acme latency_seconds_bucket{le="0.1",model="m1"} 0 @10000',
      'acme latency_seconds_bucket{le="1",model="m1"} 1 @10000',
      'acme latency_seconds_bucket{le="+Inf",model="m1"} 1 @10000',
      'acme latency_seconds_sum{model="m1"} 0.5 @10000',
      'acme latency_seconds_count{model="m1"} 1 @10000',
      // window [10s, 20s): every known series again, counters cumulative
      'acme requests_total{code="Throttling",model="m1"} 1 @20000',
      'acme tokens_total{code="Throttling",model="m1"} 2 @20000',
      'acme requests_total{model="m1"} 1 @20000',
      'acme tokens_total{model="m1"} 5 @20000',
      'acme latency_seconds_bucket{le="0.1",model="m1"} 1 @20000',
      'acme latency_seconds_bucket{le="1",model="m1"} 2 @20000',
      'acme latency_seconds_bucket{le="+Inf",model="m1"} 2 @20000',
      'acme latency_seconds_sum{model="m1"} 0.55 @20000',
      'acme latency_seconds_count{model="m1"} 2 @20000',
      'globex requests_total{model="m2"} 1 @20000',
      'globex tokens_total{model="m2"} 1 @20000',
      'globex latency_seconds_bucket{le="0.1",model="m2"} 0 @20000',
      'globex latency_seconds_bucket{le="1",model="m2"} 0 @20000',
      'globex latency_seconds_bucket{le="+Inf",model="m2"} 1 @20000',
      'globex latency_seconds_sum{model="m2"} 5 @20000',
      'globex latency_seconds_count{model="m2"} 1 @20000',
    ]);
  });

  it('counts a value on a bucket bound into that bucket (le is inclusive)', () => {
    const { operator, lines } = harness();
    operator.process('acme', 1, { model: 'm', tokens: 0, ms: 100 });
    operator.advanceWatermark(10_000);
    expect(lines()).toContain('acme latency_seconds_bucket{le="0.1",model="m"} 1 @10000');
  });

  it('rejects records for fired windows as late, and keeps the window open for allowed lateness', () => {
    const { operator } = harness(2_000);
    operator.advanceWatermark(11_000);
    expect(operator.process('acme', 5_000, { model: 'm', tokens: 1, ms: 1 })).toBeUndefined();
    operator.advanceWatermark(12_000);
    expect(operator.process('acme', 5_000, { model: 'm', tokens: 1, ms: 1 })).toEqual({ reason: 'late', detail: 'its window has already fired' });
  });

  it('rejects a record whole when one value is invalid', () => {
    const { operator, lines } = harness();
    expect(operator.process('acme', 1, { model: 'm', tokens: -1, ms: 1 })).toEqual({
      reason: 'invalid_value',
      detail: 'tokens_total: field "tokens" is not a finite number >= 0',
    });
    expect(operator.process('acme', 1, { model: 'm', tokens: 1, ms: '1' })).toMatchObject({ reason: 'invalid_value' });
    expect(operator.process('acme', 1, { model: { nested: true }, tokens: 1, ms: 1 })).toMatchObject({ reason: 'invalid_value' });
    expect(operator.process('acme', 1, { model: 'a"}\nb', tokens: 1, ms: 1 })).toMatchObject({ reason: 'invalid_value' });
    operator.advanceWatermark(10_000);
    expect(lines()).toEqual([]);
  });

  it('keeps label values with quotes and braces as data, in one label', () => {
    const { operator, out } = harness();
    operator.process('acme', 1, { model: 'x",tenant="globex', tokens: 1, ms: 1 });
    operator.advanceWatermark(10_000);
    const first = out[0]!.samples[0]!;
    expect(first.labels).toEqual([
      { name: '__name__', value: 'requests_total' },
      { name: 'model', value: 'x",tenant="globex' },
    ]);
  });
});
