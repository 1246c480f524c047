import { describe, expect, it, vi } from 'vitest';
import { metricSchema } from '../../../src/config/schema.ts';
import type { MetricPoint, MetricSink } from '../../../src/core/metric-model.ts';
import { planMetrics, type Windowing } from '../../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger } from '../../../src/operators/windowed-metrics/window-merger.ts';
import { CATCH_UP, CatchUpPacer, stepWatermark } from '../../../src/runtime/catch-up.ts';
import { Outbox } from '../../../src/runtime/outbox.ts';
import { systemScheduler } from '../../../src/runtime/scheduler.ts';

const groups = planMetrics(
  [
    { name: 'requests_total', type: 'counter', labels: { model: 'model' } },
    { name: 'latency_max_ms', type: 'gauge', aggregate: 'max', value: 'ms', labels: { model: 'model' } },
  ].map((m) => metricSchema.parse(m)),
);
const tumbling: Windowing = { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 };

/** A merger whose emitted points count in `outbox.size`, as the real outbox counts unacknowledged samples. */
function harness() {
  const out: MetricPoint[] = [];
  const outbox = { size: 0 };
  const merger = new WindowMerger(groups, tumbling, { allowedLatenessMs: 0, expireAfterMs: 30_000 }, {
    emit: (_tenant, points) => {
      out.push(...points);
      outbox.size += points.length;
    },
  });
  for (const [t, model, ms] of [[1_000, 'a', 5], [12_000, 'b', 7], [25_000, 'a', 9]] as const) {
    const pre = new PreAggregator(groups, tumbling);
    pre.add('acme', t, { model, ms });
    for (const p of pre.drain()) merger.addPartial(p);
  }
  return { merger, out, outbox: outbox as unknown as Outbox };
}

describe('stepWatermark (stage 2 catch-up)', () => {
  it('fires window by window, then crosses an empty gap of any length in one step (a record dated in the year 9999)', () => {
    const { merger, outbox } = harness();
    merger.advanceWatermark(5_000); // a finite watermark: stepping by the slide from here took ~2.5e10 steps
    const steps = vi.spyOn(merger, 'advanceWatermark');
    const target = Date.parse('9999-01-01T00:00:00Z');
    expect(stepWatermark(merger, target, outbox, Number.POSITIVE_INFINITY)).toBe(true);
    expect(merger.currentWatermark).toBe(target);
    // Windows end at 10, 20 and 30 s with data, repeat until the series expire (30 s later), then one jump.
    expect(steps.mock.calls.length).toBeLessThanOrEqual(10);
  });

  it('stops after each window past the outbox bound, and the steps emit exactly what one jump does', () => {
    const jumped = harness();
    jumped.merger.advanceWatermark(200_000);
    const stepped = harness();
    let turns = 0;
    while (!stepWatermark(stepped.merger, 200_000, stepped.outbox, 0)) turns++;
    expect(turns).toBeGreaterThanOrEqual(5);
    expect(stepped.out).toEqual(jumped.out);
    expect(stepped.merger.currentWatermark).toBe(200_000);
  });
});

describe('CatchUpPacer', () => {
  it('leaves a tenant without acknowledgements for stalledAfterMs out of the count, unless the outbox is past max_outbox_samples', () => {
    let now = 0;
    const settles: (() => void)[] = [];
    const sink: MetricSink = { write: (_tenant, _points, onSettled) => void settles.push(() => onSettled?.()), flush: async () => {}, close: async () => {} };
    const outbox = new Outbox(sink, () => now);
    let maxOutboxSamples = 100;
    const pacer = new CatchUpPacer(outbox, { ...CATCH_UP, stalledAfterMs: 1_000 }, systemScheduler(() => now), () => maxOutboxSamples);
    const points = (n: number): MetricPoint[] =>
      Array.from({ length: n }, (_, i) => ({ metric: { name: 'x_total', type: 'counter', unit: '', help: '' }, labels: [{ name: 'i', value: String(i) }], timestampMs: 10_000, startTimestampMs: 0, value: i }));
    outbox.add('dead', points(3));
    outbox.add('alive', points(2));
    expect(pacer.held()).toBe(5);
    now = 999;
    settles[1]!(); // alive acknowledges
    outbox.add('alive', points(4));
    now = 1_000;
    expect(pacer.held()).toBe(4); // dead waited its bound: left out
    maxOutboxSamples = 6; // 7 unacknowledged: over the memory bound, every sample counts again
    expect(pacer.held()).toBe(7);
    maxOutboxSamples = 100;
    now = 1_998;
    expect(pacer.held()).toBe(4); // alive's last acknowledgement (999) is within the bound
    now = 1_999; // no receiver has answered for the bound: nothing tells the dead one apart, all count (memory)
    expect(pacer.held()).toBe(7);
    settles[2]!(); // alive's 4 acknowledged: it is answering, so dead's 3 are left out again
    expect(pacer.held()).toBe(0);
    now = 3_000;
    expect(pacer.held()).toBe(3); // and when it too has been quiet for the bound, they count
  });
});
