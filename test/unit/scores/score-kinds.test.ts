import { describe, expect, it } from 'vitest';
import { metricSchema, type MetricConfig } from '../../../src/config/schema.ts';
import type { Sample } from '../../../src/core/types.ts';
import type { ScoreEvent } from '../../../src/operators/aggregations/series-state.ts';
import { AnomalyDetector, anomalyConfig } from '../../../src/operators/anomaly/index.ts';
import { DriftWindow, scoreDrift } from '../../../src/operators/drift/index.ts';
import { planMetrics, type Windowing } from '../../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger, type MergerSnapshot } from '../../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial, packState, unpackState } from '../../../src/runtime/repartition-codec.ts';
import { seededRandom } from '../../support/seeded-random.ts';
import { sampleEmitter } from '../aggregations/flattened.ts';

const WINDOW = 60_000;
const tumbling: Windowing = { kind: 'panes', sizeMs: WINDOW, slideMs: WINDOW };

/** Two stage-1 partitions, the partials wire, and a stage-2 merger that can be checkpointed and restored. */
function pipeline(metrics: MetricConfig[]) {
  const groups = planMetrics(metrics);
  const samples: Sample[] = [];
  const events: ScoreEvent[] = [];
  const newMerger = () =>
    new WindowMerger(groups, tumbling, { allowedLatenessMs: 0, expireAfterMs: 3_600_000, onEvent: (e) => events.push(e) }, sampleEmitter((_t, s) => samples.push(...s)));
  let merger = newMerger();
  const partitions = [new PreAggregator(groups, tumbling), new PreAggregator(groups, tumbling)];
  return {
    samples,
    events,
    add(partition: number, timeMs: number, record: Record<string, unknown>) {
      expect(partitions[partition]!.add('acme', timeMs, record)).toBeUndefined();
    },
    flush(watermark: number) {
      for (const pre of partitions) for (const p of pre.drain()) expect(merger.addPartial(decodePartial(p.key, encodePartial(p, groups), groups))).toBe('ok');
      merger.advanceWatermark(watermark);
    },
    /** Checkpoint through msgpack, as stage 2 stores it (as `older` rewrites it), and continue on a fresh merger. */
    restart(older: (snapshot: MergerSnapshot) => MergerSnapshot = (s) => s) {
      const wire = packState(older(merger.snapshot()));
      merger = newMerger();
      merger.restore(unpackState<MergerSnapshot>(wire));
    },
  };
}

const named = (samples: readonly Sample[], name: string) => samples.filter((s) => s.labels.some((l) => l.name === '__name__' && l.value === name));
const label = (s: Sample, name: string) => s.labels.find((l) => l.name === name)?.value;

describe('drift metric kind through the merger', () => {
  const drift = metricSchema.parse({
    name: 'tokens_drift', type: 'drift', value: 'tokens', labels: { model: 'model' },
    methods: ['default', 'psi', 'wasserstein'], reference: { type: 'first_windows', windows: 2 },
  });

  /** Values of window w: normal around 100, shifted to 160 from window 4 on. */
  function traffic(seed: number) {
    const random = seededRandom(seed);
    const windows: number[][] = [];
    for (let w = 0; w < 6; w++) windows.push(Array.from({ length: 300 }, () => Math.round((w >= 4 ? 160 : 100) + 20 * (random() + random() + random() - 1.5))));
    return windows;
  }

  function run(restartAfter?: number) {
    const p = pipeline([drift]);
    const windows = traffic(7);
    windows.forEach((values, w) => {
      values.forEach((tokens, i) => p.add(i % 2, w * WINDOW + i, { model: 'm1', tokens }));
      p.add(0, w * WINDOW + 5, { model: 'm1' }); // no feature: left out, not rejected
      p.flush((w + 1) * WINDOW);
      if (w === restartAfter) p.restart();
    });
    return { p, windows };
  }

  it('scores each window against the merged first windows exactly as the offline drift does', () => {
    const { p, windows } = run();
    const reference = new DriftWindow({ featureType: 'numerical' });
    for (const v of [...windows[0]!, ...windows[1]!]) reference.add(v);
    const scores = named(p.samples, 'tokens_drift');
    const detected = named(p.samples, 'tokens_drift_detected');
    // Windows 0 and 1 build the reference: nothing is scored before window 2 ends.
    expect(Math.min(...scores.map((s) => s.timestampMs))).toBe(3 * WINDOW);
    for (let w = 2; w < 6; w++) {
      const current = new DriftWindow({ featureType: 'numerical' });
      for (const v of windows[w]!) current.add(v);
      for (const method of ['ks', 'psi', 'wasserstein'] as const) {
        const expected = scoreDrift(reference, current, method);
        const got = scores.find((s) => s.timestampMs === (w + 1) * WINDOW && label(s, 'method') === method);
        expect(got?.value).toBe(expected.score);
        expect(detected.find((s) => s.timestampMs === (w + 1) * WINDOW && label(s, 'method') === method)?.value).toBe(expected.detected ? 1 : 0);
      }
    }
    // 600 reference values: Evidently's default is K-S; the shift from window 4 is detected.
    const ks = (w: number) => detected.find((s) => s.timestampMs === (w + 1) * WINDOW && label(s, 'method') === 'ks')!.value;
    expect([ks(2), ks(3), ks(4), ks(5)]).toEqual([0, 0, 1, 1]);
  });

  it('gives the same samples after a checkpoint and restore mid-stream', () => {
    const once = run().p.samples;
    for (const at of [0, 1, 3]) expect(run(at).p.samples).toEqual(once);
  }, 60_000);

  it('slides a trailing reference and scores a categorical feature with new and missing categories', () => {
    const mix = metricSchema.parse({
      name: 'model_mix_drift', type: 'drift', value: 'model', feature: 'categorical', methods: ['psi', 'jensenshannon', 'chisquare'],
      labels: {}, reference: { type: 'trailing_windows', windows: 1 },
    });
    const p = pipeline([mix]);
    const counts = [{ a: 50, b: 50 }, { a: 50, b: 50 }, { a: 20, c: 80 }];
    counts.forEach((byModel, w) => {
      let i = 0;
      for (const [model, n] of Object.entries(byModel)) for (let k = 0; k < n; k++) p.add(k % 2, w * WINDOW + i++, { model });
      p.flush((w + 1) * WINDOW);
    });
    const psi = named(p.samples, 'model_mix_drift').filter((s) => label(s, 'method') === 'psi');
    expect(psi.map((s) => s.timestampMs)).toEqual([2 * WINDOW, 3 * WINDOW]);
    expect(psi[0]!.value).toBe(0);
    const ref = new DriftWindow({ featureType: 'categorical' });
    const cur = new DriftWindow({ featureType: 'categorical' });
    ref.add('a', 50);
    ref.add('b', 50);
    cur.add('a', 20);
    cur.add('c', 80);
    expect(psi[1]!.value).toBe(scoreDrift(ref, cur, 'psi').score);
    expect(named(p.samples, 'model_mix_drift_detected').filter((s) => s.timestampMs === 3 * WINDOW).map((s) => s.value)).toEqual([1, 1, 1]);
  });
});

describe('anomaly metric kind through the merger', () => {
  const metrics = [
    metricSchema.parse({ name: 'latency_seconds', type: 'quantiles', value: 'ms', scale: 0.001, quantiles: [0.5, 0.95], labels: { model: 'model' } }),
    metricSchema.parse({
      name: 'latency_p95_anomaly', type: 'anomaly', input: 'latency_seconds', input_labels: { quantile: '0.95' }, labels: { model: 'model' },
      detector: { learn_points: 20 },
    }),
  ];
  const WINDOWS = 80;
  /** p95 of window w: steady around 0.2 s with noise, a spike at window 60. */
  function latencies(w: number, random: () => number): number[] {
    return Array.from({ length: 40 }, () => (w === 60 ? 3000 : 200 + 40 * random()));
  }

  function run(restartAt?: number, older?: (snapshot: MergerSnapshot) => MergerSnapshot) {
    const p = pipeline(metrics);
    const random = seededRandom(3);
    for (let w = 0; w < WINDOWS; w++) {
      latencies(w, random).forEach((ms, i) => p.add(i % 2, w * WINDOW + i, { model: 'm1', ms }));
      p.flush((w + 1) * WINDOW);
      if (w === restartAt) p.restart(older);
    }
    return p;
  }

  it('scores the input metric\'s window value with the online detector, and emits an event for the spike', () => {
    const p = run();
    const p95 = named(p.samples, 'latency_seconds').filter((s) => label(s, 'quantile') === '0.95');
    const scores = named(p.samples, 'latency_p95_anomaly');
    expect(scores).toHaveLength(WINDOWS);
    const detector = new AnomalyDetector(anomalyConfig({ learn_points: 20 }));
    const expected = p95.map((s) => detector.update(s.value, s.timestampMs).score);
    expect(scores.map((s) => s.value)).toEqual(expected);
    expect(scores.every((s) => s.value >= 0 && s.value <= 1)).toBe(true);
    const spike = p.events.find((e) => e.windowEndMs === 61 * WINDOW);
    expect(spike).toMatchObject({ metric: 'latency_p95_anomaly', tenant: 'acme', windowStartMs: 60 * WINDOW, labels: [{ name: 'model', value: 'm1' }] });
    expect(spike!.value).toBe(p95[60]!.value);
    expect(spike!.score).toBeGreaterThanOrEqual(spike!.threshold);
    expect(spike!.expectedUpper).toBeLessThan(spike!.value);
    const counter = named(p.samples, 'latency_p95_anomaly_events_total');
    expect(counter.at(-1)!.value).toBe(p.events.length);
  });

  it('restores detector state from a checkpoint: the same scores and events as an uninterrupted run', () => {
    const once = run();
    for (const at of [10, 45, 60]) {
      const again = run(at);
      expect(again.samples).toEqual(once.samples);
      expect(again.events).toEqual(once.events);
    }
  }, 60_000);

  it('restores detector state from a checkpoint written before metric points (no running-total starts)', () => {
    const once = run();
    // Such a checkpoint ends each series at the detectors' state: no starts after it.
    const withoutStarts = (snapshot: MergerSnapshot): MergerSnapshot => ({ ...snapshot, series: snapshot.series.map((series) => series.slice(0, 8) as (typeof snapshot.series)[number]) });
    const again = run(30, withoutStarts);
    // Everything but the events counter's start (taken afresh at the next window) is as before.
    const plain = (samples: readonly Sample[]) => samples.map(({ labels, value, timestampMs }) => ({ labels, value, timestampMs }));
    expect(plain(again.samples)).toEqual(plain(once.samples));
    expect(again.events).toEqual(once.events);
    const starts = named(again.samples, 'latency_p95_anomaly_events_total').map((s) => s.startTimestampMs);
    expect(starts[0]).toBe(0);
    expect(starts.at(-1)).toBe(31 * WINDOW);
  });

  it('refuses an anomaly whose input has other labels', () => {
    const bad = metricSchema.parse({ name: 'x_anomaly', type: 'anomaly', input: 'latency_seconds', labels: {} });
    expect(() => planMetrics([metrics[0]!, bad])).toThrow('anomaly metric x_anomaly: its input latency_seconds is not a metric with the same labels');
  });
});

describe('data-quality gauges', () => {
  it('reports null, invalid-type and out-of-range rates of a field per window', () => {
    const quality = metricSchema.parse({ name: 'field_quality', type: 'data_quality', field: 'latency_ms', min: 0, max: 60_000, labels: { model: 'model' } });
    const p = pipeline([quality]);
    const values: unknown[] = [10, 20, null, undefined, 'slow', -5, 90_000, 30, 40, 50];
    values.forEach((latency_ms, i) => p.add(i % 2, i, latency_ms === undefined ? { model: 'm1' } : { model: 'm1', latency_ms }));
    p.flush(WINDOW);
    const byCheck = Object.fromEntries(named(p.samples, 'field_quality').map((s) => [label(s, 'check'), s.value]));
    expect(byCheck).toEqual({ null: 0.2, invalid_type: 0.1, out_of_range: 0.2, schema_violation: 0 });
    expect(named(p.samples, 'field_quality').every((s) => label(s, 'field') === 'latency_ms')).toBe(true);
  });

  it('counts a record dead-lettered as invalid as a schema violation of its series', () => {
    const quality = metricSchema.parse({ name: 'field_quality', type: 'data_quality', field: 'tokens', labels: { model: 'model' } });
    const tokens = metricSchema.parse({ name: 'tokens_total', type: 'counter', value: 'tokens', labels: { model: 'model' } });
    const groups = planMetrics([quality, tokens]);
    const pre = new PreAggregator(groups, tumbling);
    expect(pre.add('acme', 1, { model: 'm1', tokens: 5 })).toBeUndefined();
    expect(pre.add('acme', 2, { model: 'm1', tokens: -1 })).toMatchObject({ reason: 'invalid_value' });
    expect(pre.add('acme', 3, { model: 'm1', tokens: 'many' })).toMatchObject({ reason: 'invalid_value' });
    const samples: Sample[] = [];
    const merger = new WindowMerger(groups, tumbling, { allowedLatenessMs: 0, expireAfterMs: 60_000 }, sampleEmitter((_t, s) => samples.push(...s)));
    for (const p of pre.drain()) merger.addPartial(p);
    merger.advanceWatermark(WINDOW);
    const byCheck = Object.fromEntries(named(samples, 'field_quality').map((s) => [label(s, 'check'), s.value]));
    expect(byCheck).toEqual({ null: 0, invalid_type: 0, out_of_range: 0, schema_violation: 2 / 3 });
    expect(named(samples, 'tokens_total').map((s) => s.value)).toEqual([5]);
  });
});
