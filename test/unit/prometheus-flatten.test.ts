import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MetricDescriptor, MetricPoint } from '../../src/core/metric-model.ts';
import { isStaleMarker } from '../../src/core/stale-marker.ts';
import { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';
import { FlatteningSink, SampleFlattener } from '../../src/sinks/prometheus/flatten.ts';
import { isHistogramSample } from '../../src/sinks/prometheus/histogram-sample.ts';
import type { Sample } from '../../src/core/types.ts';
import { OPTIONS, runEveryKind, sampleLine, WINDOWINGS } from './aggregations/every-kind.ts';

const GOLDEN = new URL('./testdata/every-kind.samples.txt', import.meta.url);
const labels = [{ name: 'model', value: 'm1' }];

/** `name{labels} value` per sample, stale markers as `stale`. */
function text(samples: readonly Sample[]): string[] {
  return samples.map((s) => `${s.labels.map((l) => `${l.name}=${l.value}`).join(',')} ${isStaleMarker(s.value) ? 'stale' : s.value}`);
}

describe('metric points flattened into Prometheus samples', () => {
  it('gives, for every aggregation kind and windowing, exactly the samples stage 2 emitted before it emitted points', () => {
    const lines: string[] = [];
    const flattener = new SampleFlattener();
    for (const [name, windowing] of Object.entries(WINDOWINGS)) {
      lines.push(`# ${name}`);
      runEveryKind(windowing, (groups) => new WindowMerger(groups, windowing, OPTIONS, { emit: (tenant, points) => { for (const s of flattener.flatten(points)) lines.push(sampleLine(tenant, s)); } }));
    }
    const golden = readFileSync(GOLDEN, 'utf8').trimEnd().split('\n');
    expect(golden.length).toBeGreaterThan(3_000);
    expect(lines).toEqual(golden);
  }, 60_000);

  it('flattens a histogram into cumulative _bucket{le} with +Inf, _sum and _count; le in shortest round-trip form', () => {
    const metric: MetricDescriptor = { name: 'latency_seconds', type: 'histogram', unit: 's', help: 'Latency.', bounds: [0.005, 0.1, 1e21] };
    const value = { bounds: [0.005, 0.1, 1e21], bucketCounts: [1, 2, 0, 4], count: 7, sum: 12.5 };
    const samples = new SampleFlattener().flatten([{ metric, labels, timestampMs: 10_000, startTimestampMs: 5_000, value }]);
    expect(text(samples)).toEqual([
      '__name__=latency_seconds_bucket,le=0.005,model=m1 1',
      '__name__=latency_seconds_bucket,le=0.1,model=m1 3',
      '__name__=latency_seconds_bucket,le=1e+21,model=m1 3',
      '__name__=latency_seconds_bucket,le=+Inf,model=m1 7',
      '__name__=latency_seconds_sum,model=m1 12.5',
      '__name__=latency_seconds_count,model=m1 7',
    ]);
    expect(samples.every((s) => s.metric === metric && s.startTimestampMs === 5_000 && s.timestampMs === 10_000)).toBe(true);
  });

  it('flattens a summary into {quantile}, _sum and _count, and a data label named le or quantile gives way', () => {
    const metric: MetricDescriptor = { name: 'rpc_seconds', type: 'summary', unit: 's', help: '', quantiles: [0.5, 0.99] };
    const value = { quantiles: [{ quantile: 0.5, value: 0.2 }, { quantile: 0.99, value: 1.5 }], count: 10, sum: 4 };
    const base = [{ name: 'quantile', value: 'data' }];
    expect(text(new SampleFlattener().flatten([{ metric, labels: base, timestampMs: 1, value }]))).toEqual([
      '__name__=rpc_seconds,quantile=0.5 0.2',
      '__name__=rpc_seconds,quantile=0.99 1.5',
      '__name__=rpc_seconds_sum,quantile=data 4',
      '__name__=rpc_seconds_count,quantile=data 10',
    ]);
  });

  it('marks every series of a stale point stale, naming histogram buckets and quantiles from the descriptor', () => {
    const histogram: MetricDescriptor = { name: 'h', type: 'histogram', unit: '', help: '', bounds: [1] };
    const summary: MetricDescriptor = { name: 's', type: 'summary', unit: '', help: '', quantiles: [0.9] };
    const counter: MetricDescriptor = { name: 'c_total', type: 'counter', unit: '', help: '' };
    const stale = (metric: MetricDescriptor): MetricPoint => ({ metric, labels, timestampMs: 1, value: undefined });
    expect(text(new SampleFlattener().flatten([stale(counter), stale(histogram), stale(summary)]))).toEqual([
      '__name__=c_total,model=m1 stale',
      '__name__=h_bucket,le=1,model=m1 stale',
      '__name__=h_bucket,le=+Inf,model=m1 stale',
      '__name__=h_sum,model=m1 stale',
      '__name__=h_count,model=m1 stale',
      '__name__=s,model=m1,quantile=0.9 stale',
      '__name__=s_sum,model=m1 stale',
      '__name__=s_count,model=m1 stale',
    ]);
  });

  it('keeps a counter as one series of its own name, NaN and ±Inf as they are (not stale)', () => {
    const counter: MetricDescriptor = { name: 'c_total', type: 'counter', unit: '', help: '' };
    const samples = new SampleFlattener().flatten([Number.NaN, Number.POSITIVE_INFINITY].map((value) => ({ metric: counter, labels, timestampMs: 1, value })));
    expect(samples.map((s) => [s.labels.map((l) => l.value), s.value])).toEqual([[['c_total', 'm1'], Number.NaN], [['c_total', 'm1'], Number.POSITIVE_INFINITY]]);
    expect(samples.some((s) => isStaleMarker(s.value))).toBe(false);
  });

  it('keeps a histogram whole, as one sample of its unsuffixed name, for the tenants the sink says take native histograms', () => {
    const writes: [string, Sample[]][] = [];
    const sink = new FlatteningSink(
      { write: (tenant, samples) => void writes.push([tenant, [...samples]]), flush: async () => {}, close: async () => {} },
      (tenant) => tenant === 'native',
    );
    const metric: MetricDescriptor = { name: 'latency_seconds', type: 'histogram', unit: 's', help: '', bounds: [0.1, 1] };
    const value = { bounds: [0.1, 1], bucketCounts: [1, 0, 2], count: 3, sum: 4.5 };
    const counter: MetricDescriptor = { name: 'c_total', type: 'counter', unit: '', help: '' };
    const points: MetricPoint[] = [
      { metric, labels, timestampMs: 10, startTimestampMs: 5, value },
      { metric, labels, timestampMs: 20, value: undefined },
      { metric: counter, labels, timestampMs: 10, value: 3 },
    ];
    sink.write('native', points);
    sink.write('classic', points);
    const [[, whole], [, classic]] = writes as [[string, Sample[]], [string, Sample[]]];
    expect(text(whole)).toEqual(['__name__=latency_seconds,model=m1 3', '__name__=latency_seconds,model=m1 stale', '__name__=c_total,model=m1 3']);
    expect(whole.map((s) => (isHistogramSample(s) ? s.histogram : undefined))).toEqual([
      value,
      { bounds: [0.1, 1], bucketCounts: [0, 0, 0], count: 0, sum: Number.NaN },
      undefined,
    ]);
    expect(whole.map((s) => isHistogramSample(s) && isStaleMarker(s.histogram.sum))).toEqual([false, true, false]);
    expect(whole[0]).toMatchObject({ metric, startTimestampMs: 5, timestampMs: 10 });
    expect(classic).toHaveLength(2 * 5 + 1);
  });

  it('passes each write on to the sample sink, flattened, with its settlement callback', async () => {
    const writes: [string, Sample[]][] = [];
    let settled = 0;
    const sink = new FlatteningSink({ write: (tenant, samples, onSettled) => { writes.push([tenant, [...samples]]); onSettled?.(); }, flush: async () => {}, close: async () => {} });
    const counter: MetricDescriptor = { name: 'c_total', type: 'counter', unit: '', help: '' };
    sink.write('acme', [{ metric: counter, labels, timestampMs: 1, value: 3 }], () => settled++);
    expect(writes.map(([tenant, samples]) => [tenant, text(samples)])).toEqual([['acme', ['__name__=c_total,model=m1 3']]]);
    expect(settled).toBe(1);
  });
});
