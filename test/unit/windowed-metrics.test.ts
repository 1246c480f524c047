import { sampleEmitter } from './aggregations/flattened.ts';
import { describe, expect, it } from 'vitest';
import { metricSchema } from '../../src/config/schema.ts';
import { isStaleMarker } from '../../src/core/stale-marker.ts';
import type { Sample } from '../../src/core/types.ts';
import type { PartialAggregate } from '../../src/operators/windowed-metrics/partial.ts';
import { planMetrics, type Windowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial } from '../../src/runtime/repartition-codec.ts';

const metrics = [
  { name: 'requests_total', type: 'counter', help: '', labels: { model: 'model', code: 'error_code' } },
  { name: 'tokens_total', type: 'counter', help: '', value: 'tokens', labels: { model: 'model', code: 'error_code' } },
  { name: 'latency_seconds', type: 'histogram', help: '', value: 'ms', scale: 0.001, buckets: [0.1, 1], labels: { model: 'model' } },
  { name: 'latency_max_ms', type: 'gauge', help: '', aggregate: 'max', value: 'ms', labels: { model: 'model' } },
].map((m) => metricSchema.parse(m));
const groups = planMetrics(metrics);
const tumbling: Windowing = { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 };

/** Stage 1 on several "partitions", the wire between, and stage 2: the whole operator path. */
function harness(windowing: Windowing = tumbling, options = { allowedLatenessMs: 0, expireAfterMs: 60_000 }) {
  const out: { tenant: string; samples: Sample[] }[] = [];
  const merger = new WindowMerger(groups, windowing, options, sampleEmitter((tenant, samples) => out.push({ tenant, samples })));
  const ship = (partials: PartialAggregate[]) => {
    for (const p of partials) expect(merger.addPartial(decodePartial(p.key, encodePartial(p, groups), groups))).toBe('ok');
  };
  /** Emitted samples as `tenant name{labels} value @ts`, for readable exact assertions. */
  const lines = () =>
    out.flatMap(({ tenant, samples }) =>
      samples.map((s) => {
        const name = s.labels.find((l) => l.name === '__name__')!.value;
        const labels = s.labels.filter((l) => l.name !== '__name__').map((l) => `${l.name}="${l.value}"`).join(',');
        return `${tenant} ${name}{${labels}} ${isStaleMarker(s.value) ? 'stale' : s.value} @${s.timestampMs}`;
      }),
    );
  return { merger, ship, lines, pre: () => new PreAggregator(groups, windowing) };
}

describe('windowed metrics, stage 1 to stage 2', () => {
  it('merges partials from two partitions and fires each window once with cumulative values at its end', () => {
    const { merger, ship, lines, pre } = harness();
    const p0 = pre();
    const p1 = pre();
    expect(p0.add('acme', 12_000, { model: 'm1', tokens: 5, ms: 50 })).toBeUndefined();
    expect(p1.add('acme', 3_000, { model: 'm1', tokens: 2, ms: 500, error_code: 'Throttling' })).toBeUndefined();
    expect(p1.add('globex', 15_000, { model: 'm2', tokens: 1, ms: 5_000 })).toBeUndefined();
    ship(p0.drain());
    ship(p1.drain());
    merger.advanceWatermark(9_999);
    expect(lines()).toEqual([]);
    merger.advanceWatermark(20_000);
    merger.advanceWatermark(20_000); // no re-firing
    // Order within a window is not part of the contract; timestamps and values are.
    expect(lines().sort()).toEqual([
      // window [0, 10s): the throttled acme call
      'acme latency_max_ms{model="m1"} 500 @10000',
      'acme requests_total{code="Throttling",model="m1"} 1 @10000',
      'acme tokens_total{code="Throttling",model="m1"} 2 @10000',
      'acme latency_seconds_bucket{le="0.1",model="m1"} 0 @10000',
      'acme latency_seconds_bucket{le="1",model="m1"} 1 @10000',
      'acme latency_seconds_bucket{le="+Inf",model="m1"} 1 @10000',
      'acme latency_seconds_sum{model="m1"} 0.5 @10000',
      'acme latency_seconds_count{model="m1"} 1 @10000',
      // window [10s, 20s): window gauges for series with data, every cumulative series again
      'acme latency_max_ms{model="m1"} 50 @20000',
      'acme requests_total{code="Throttling",model="m1"} 1 @20000',
      'acme tokens_total{code="Throttling",model="m1"} 2 @20000',
      'acme latency_seconds_bucket{le="0.1",model="m1"} 1 @20000',
      'acme latency_seconds_bucket{le="1",model="m1"} 2 @20000',
      'acme latency_seconds_bucket{le="+Inf",model="m1"} 2 @20000',
      'acme latency_seconds_sum{model="m1"} 0.55 @20000',
      'acme latency_seconds_count{model="m1"} 2 @20000',
      'acme requests_total{model="m1"} 1 @20000',
      'acme tokens_total{model="m1"} 5 @20000',
      'globex latency_max_ms{model="m2"} 5000 @20000',
      'globex latency_seconds_bucket{le="0.1",model="m2"} 0 @20000',
      'globex latency_seconds_bucket{le="1",model="m2"} 0 @20000',
      'globex latency_seconds_bucket{le="+Inf",model="m2"} 1 @20000',
      'globex latency_seconds_sum{model="m2"} 5 @20000',
      'globex latency_seconds_count{model="m2"} 1 @20000',
      'globex requests_total{model="m2"} 1 @20000',
      'globex tokens_total{model="m2"} 1 @20000',
    ].sort());
  });

  it('rejects a record whole when one value is invalid', () => {
    const p = harness().pre();
    expect(p.add('acme', 1, { model: 'm', tokens: -1, ms: 1 })).toEqual({ reason: 'invalid_value', detail: 'tokens_total: field "tokens" is not a finite number >= 0' });
    expect(p.add('acme', 1, { model: 'm', tokens: 1, ms: '1' })).toMatchObject({ reason: 'invalid_value' });
    expect(p.add('acme', 1, { model: { nested: true }, tokens: 1, ms: 1 })).toMatchObject({ reason: 'invalid_value' });
    expect(p.add('acme', 1, { model: 'a"}\nb', tokens: 1, ms: 1 })).toMatchObject({ reason: 'invalid_value' });
    expect(p.isEmpty).toBe(true);
  });

  it('repeats cumulative series in windows without data, then marks them stale and forgets them', () => {
    const { merger, ship, lines, pre } = harness(tumbling, { allowedLatenessMs: 0, expireAfterMs: 20_000 });
    const p = pre();
    p.add('acme', 1_000, { model: 'm', tokens: 3, ms: 1 });
    ship(p.drain());
    merger.advanceWatermark(40_000);
    const tokens = lines().filter((l) => l.includes('tokens_total'));
    expect(tokens).toEqual([
      'acme tokens_total{model="m"} 3 @10000',
      'acme tokens_total{model="m"} 3 @20000',
      'acme tokens_total{model="m"} stale @30000',
    ]);
    expect(merger.seriesCount).toBe(0);
  });

  it('counts a record once in cumulative series but in every hopping window that covers it', () => {
    const hopping: Windowing = { kind: 'panes', sizeMs: 20_000, slideMs: 10_000 };
    const { merger, ship, lines, pre } = harness(hopping);
    const p = pre();
    p.add('acme', 5_000, { model: 'm', tokens: 1, ms: 7 });
    ship(p.drain());
    merger.advanceWatermark(20_000);
    expect(lines().filter((l) => l.includes('tokens_total') || l.includes('latency_max'))).toEqual([
      'acme latency_max_ms{model="m"} 7 @10000',
      'acme tokens_total{model="m"} 1 @10000',
      'acme latency_max_ms{model="m"} 7 @20000',
      'acme tokens_total{model="m"} 1 @20000',
    ]);
  });

  it('merges session fragments from different partitions into one session', () => {
    const session: Windowing = { kind: 'session', gapMs: 5_000 };
    const { merger, ship, lines, pre } = harness(session);
    const p0 = pre();
    const p1 = pre();
    p0.add('acme', 1_000, { model: 'm', tokens: 1, ms: 1 });
    p1.add('acme', 4_000, { model: 'm', tokens: 2, ms: 9 });
    p0.add('acme', 20_000, { model: 'm', tokens: 4, ms: 3 });
    ship(p0.drain());
    ship(p1.drain());
    merger.advanceWatermark(30_000);
    expect(lines().filter((l) => l.includes('tokens_total') || l.includes('latency_max')).sort()).toEqual([
      'acme latency_max_ms{model="m"} 9 @9000',
      'acme tokens_total{model="m"} 3 @9000',
      'acme latency_max_ms{model="m"} 3 @25000',
      'acme tokens_total{model="m"} 7 @25000',
    ].sort());
  });

  it('restores from a snapshot and continues exactly as if it had not stopped', () => {
    const run = (snapshotAt: number | undefined) => {
      const h = harness();
      const p = h.pre();
      for (let t = 0; t < 50_000; t += 700) p.add(t % 2 ? 'acme' : 'globex', t, { model: `m${t % 3}`, tokens: t % 11, ms: (t % 997) + 0.5 });
      const partials = p.drain();
      h.ship(partials);
      let merger = h.merger;
      for (let wm = 5_000; wm <= 60_000; wm += 5_000) {
        if (wm === snapshotAt) {
          const restored = harness();
          restored.merger.restore(merger.snapshot());
          merger = restored.merger;
          // keep emitting into the first harness' output
          (merger as unknown as { emitter: unknown }).emitter = (h.merger as unknown as { emitter: unknown }).emitter;
        }
        merger.advanceWatermark(wm);
      }
      return h.lines();
    };
    expect(run(25_000)).toEqual(run(undefined));
  });

  it('tells metrics of one name apart by static labels, and forwards passthrough series as they came', () => {
    const plan = planMetrics(
      [
        { name: 'tokens_total', type: 'counter', value: 'in', static_labels: { type: 'input' }, labels: { model: 'model' } },
        { name: 'tokens_total', type: 'counter', value: 'out', static_labels: { type: 'output' }, labels: { model: 'model' } },
        { name: 'forward', type: 'passthrough' },
      ].map((m) => metricSchema.parse(m)),
    );
    const out: string[] = [];
    const merger = new WindowMerger(plan, tumbling, { allowedLatenessMs: 0, expireAfterMs: 60_000 }, sampleEmitter((tenant, samples) => out.push(...samples.map((s) => `${tenant} ${s.labels.map((l) => `${l.name}=${l.value}`).join(',')} ${s.value}`))));
    const pre = new PreAggregator(plan, tumbling);
    expect(pre.add('acme', 1_000, { model: 'm', in: 3, out: 5, name: 'DCGM_FI_DEV_GPU_UTIL', labels: { gpu: '0', Hostname: 'n1' }, value: 40 })).toBeUndefined();
    expect(pre.add('acme', 2_000, { model: 'm', in: 1, out: 1, name: 'DCGM_FI_DEV_GPU_UTIL', labels: { gpu: '0', Hostname: 'n1' }, value: 55 })).toBeUndefined();
    expect(pre.add('acme', 3_000, { model: 'm', in: 0, out: 0, name: 'x', labels: { __name__: 'y', 'bad-name': '1' }, value: 1 })).toEqual({
      reason: 'invalid_value',
      detail: 'passthrough: label "bad-name" is not a valid label',
    });
    for (const p of pre.drain()) merger.addPartial(decodePartial(p.key, encodePartial(p, plan), plan));
    merger.advanceWatermark(10_000);
    expect(out.sort()).toEqual([
      'acme Hostname=n1,__name__=DCGM_FI_DEV_GPU_UTIL,gpu=0 55',
      'acme __name__=tokens_total,model=m,type=input 4',
      'acme __name__=tokens_total,model=m,type=output 6',
    ]);
  });
});
