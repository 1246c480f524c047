import { describe, expect, it } from 'vitest';
import type { MetricDescriptor, MetricPoint, MetricSink } from '../../src/core/metric-model.ts';
import { encodeSampleValue, isStaleMarker, STALE_NAN } from '../../src/core/stale-marker.ts';
import type { Sample } from '../../src/core/types.ts';
import { Outbox } from '../../src/runtime/outbox.ts';
import { packState, unpackState } from '../../src/runtime/repartition-codec.ts';
import { SampleFlattener } from '../../src/sinks/prometheus/flatten.ts';

/** A sink that records writes and settles them only when told to. */
function recordingSink() {
  const writes: { tenant: string; points: readonly MetricPoint[]; settled: boolean; settle: () => void }[] = [];
  const sink: MetricSink = {
    write: (tenant, points, onSettled) => {
      const write = { tenant, points, settled: false, settle: () => ((write.settled = true), onSettled?.()) };
      writes.push(write);
    },
    flush: async () => {},
    close: async () => {},
  };
  return { sink, writes };
}

const counter: MetricDescriptor = { name: 'x_total', type: 'counter', unit: '', help: 'Xs.' };
const histogram: MetricDescriptor = { name: 'latency_seconds', type: 'histogram', unit: 's', help: '', bounds: [0.1, 1] };
const labels = [{ name: 'model', value: 'm' }];
const withName = [{ name: '__name__', value: 'x_total' }, ...labels];

function point(value: number | undefined, timestampMs: number): MetricPoint {
  return { metric: counter, labels, timestampMs, startTimestampMs: 0, value };
}

/** What a remote-write v1 receiver gets for these points. */
function samplesOf(points: readonly MetricPoint[]): Sample[] {
  return new SampleFlattener().flatten(points);
}

describe('outbox', () => {
  it("asks the sink to send each tenant's handed-over writes at the next turn, once per tenant", async () => {
    const { sink } = recordingSink();
    const expedited: string[] = [];
    const outbox = new Outbox({ ...sink, expedite: (tenant) => void expedited.push(tenant) });
    outbox.add('acme', [point(1, 10_000)]);
    outbox.add('acme', [point(2, 20_000)]);
    outbox.add('globex', [point(3, 10_000)]);
    expect(expedited).toEqual([]); // not on the caller's stack: a window's writes coalesce first
    await new Promise((resolve) => setImmediate(resolve));
    expect(expedited).toEqual(['acme', 'globex']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(expedited).toEqual(['acme', 'globex']);
  });

  it('tells a waiter once acknowledgements bring its unacknowledged samples down to a bound, or when it closes', async () => {
    const { sink, writes } = recordingSink();
    const outbox = new Outbox(sink);
    await outbox.drainedTo(0); // nothing pending: at once
    outbox.add('acme', [point(1, 10_000)]);
    outbox.add('acme', [point(2, 20_000)]);
    let drained = false;
    void outbox.drainedTo(1).then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    writes[0]!.settle();
    await Promise.resolve();
    expect(drained).toBe(true);

    let closed = false;
    void outbox.drainedTo(0).then(() => (closed = true));
    await Promise.resolve();
    expect(closed).toBe(false);
    outbox.close();
    await Promise.resolve();
    expect(closed).toBe(true);
  });

  it("counts as flowing only the tenants acknowledging within the bound, each from its first write of a wait", () => {
    const { sink, writes } = recordingSink();
    let now = 0;
    const outbox = new Outbox(sink, () => now);
    outbox.add('acme', [point(1, 10_000)]);
    outbox.add('globex', [point(2, 10_000)]);
    outbox.add('globex', [point(3, 20_000)]);
    expect(outbox.flowingSize(1_000)).toBe(3);
    now = 999;
    writes[1]!.settle(); // globex acknowledges one of its two: it is flowing again for a second
    expect(outbox.flowingSize(1_000)).toBe(2);
    now = 1_000; // acme: nothing acknowledged for the bound
    expect(outbox.flowingSize(1_000)).toBe(1);
    expect(outbox.flowingSize(Number.POSITIVE_INFINITY)).toBe(2);
    expect(outbox.size).toBe(2);
    // A tenant whose writes are all acknowledged starts over: its next write waits from then.
    writes[0]!.settle();
    writes[2]!.settle();
    now = 50_000;
    outbox.add('acme', [point(4, 30_000)]);
    expect(outbox.flowingSize(1_000)).toBe(1);
  });

  it('tells a waiter that counts its own way (drainedTo with a count) at each acknowledgement', async () => {
    const { sink, writes } = recordingSink();
    const outbox = new Outbox(sink);
    outbox.add('acme', [point(1, 10_000)]);
    outbox.add('globex', [point(2, 10_000)]);
    const acme = () => outbox.size - (writes[1]!.settled ? 0 : 1);
    let drained = false;
    void outbox.drainedTo(0, acme).then(() => (drained = true));
    writes[0]!.settle();
    await Promise.resolve();
    expect(drained).toBe(true); // globex still waits: the count left it out
    expect(outbox.size).toBe(1);
  });

  it('keeps unacknowledged writes in its snapshot, drops them once settled, and counts samples', () => {
    const { sink, writes } = recordingSink();
    const outbox = new Outbox(sink);
    outbox.add('acme', [point(1, 10_000)]);
    const buckets = { bounds: [0.1, 1], bucketCounts: [1, 0, 2], count: 3, sum: 7.5 };
    outbox.add('globex', [point(2, 10_000), { metric: histogram, labels, timestampMs: 20_000, startTimestampMs: 0, value: buckets }]);
    expect(outbox.size).toBe(1 + 1 + 5); // a histogram is its 3 buckets, _sum and _count
    writes[0]!.settle();
    expect(outbox.size).toBe(6);
    expect(outbox.snapshot().map(([tenant]) => tenant)).toEqual(['globex']);
    // What a restore re-sends is exactly what is still unacknowledged.
    const restored = new Outbox(sink);
    restored.restore(unpackState(packState(outbox.snapshot())));
    expect(writes.at(-1)!.points).toEqual(writes[1]!.points);
    expect(restored.size).toBe(6);
  });

  it('restores through the checkpoint codec: descriptors, start times and stale points intact', () => {
    const { sink, writes } = recordingSink();
    const before = new Outbox(sink);
    before.add('acme', [point(5, 10_000), { metric: histogram, labels, timestampMs: 20_000, value: undefined }]);
    const snapshot = unpackState<ReturnType<Outbox['snapshot']>>(packState(before.snapshot()));
    const after = new Outbox(sink);
    after.restore(snapshot);
    const resent = writes[1]!;
    expect(resent.tenant).toBe('acme');
    expect(resent.points).toEqual(writes[0]!.points);
    expect(resent.points[1]!.value).toBeUndefined();
    // One descriptor object per metric, as the live path has it.
    expect(samplesOf(resent.points).map((s) => isStaleMarker(s.value))).toEqual([false, true, true, true, true, true]);
  });

  it('restores packed sample checkpoints written before points, re-sending byte-identical samples', () => {
    const { sink, writes } = recordingSink();
    const legacy: [string[], number | string, number][] = [
      [['__name__', 'x_total', 'model', 'm'], 5, 10_000],
      [['__name__', 'x_total', 'model', 'm'], encodeSampleValue(STALE_NAN), 20_000],
      [['__name__', 'up', 'job', 'j'], encodeSampleValue(Number.NaN), 20_000],
    ];
    const outbox = new Outbox(sink);
    outbox.restore([['acme', packState(legacy)]]);
    const samples = samplesOf(writes[0]!.points);
    expect(samples.map((s) => [s.labels, s.timestampMs])).toEqual([[withName, 10_000], [withName, 20_000], [[{ name: '__name__', value: 'up' }, { name: 'job', value: 'j' }], 20_000]]);
    expect(samples[0]!.value).toBe(5);
    expect(isStaleMarker(samples[1]!.value)).toBe(true);
    expect(Number.isNaN(samples[2]!.value) && !isStaleMarker(samples[2]!.value)).toBe(true);
    expect(outbox.size).toBe(3);
  });

  it('restores checkpoints written before entries were packed', () => {
    const { sink, writes } = recordingSink();
    const outbox = new Outbox(sink);
    outbox.restore([['acme', [[['__name__', 'x_total', 'model', 'm'], 7, 10_000]]]]);
    const [sample] = samplesOf(writes[0]!.points);
    expect([sample!.labels, sample!.value, sample!.timestampMs]).toEqual([withName, 7, 10_000]);
  });

  it('writes each unacknowledged write once for incremental checkpoints, removes it once settled, and restores under the same names', () => {
    const { sink, writes } = recordingSink();
    const outbox = new Outbox(sink);
    // What the store holds, applied as stage 2's checkpoints would.
    const stored = new Map<string, Buffer>();
    const checkpoint = (all = false) => {
      const { put, remove } = outbox.changes(all);
      if (all) stored.clear();
      for (const field of remove) stored.delete(field);
      for (const [field, value] of put) stored.set(field, value);
      return { put: put.map(([field]) => field), remove };
    };
    outbox.add('acme', [point(1, 10_000)]);
    outbox.add('globex', [point(2, 10_000)]);
    outbox.add('acme', [point(3, 20_000)]);
    const first = checkpoint();
    expect(first.put).toHaveLength(3);
    expect(checkpoint()).toEqual({ put: [], remove: [] }); // nothing new: nothing written

    writes[1]!.settle(); // written, then acknowledged: removed
    outbox.add('acme', [point(4, 30_000)]);
    outbox.add('acme', [point(5, 30_000)]);
    writes[4]!.settle(); // acknowledged before any checkpoint wrote it: never written
    const second = checkpoint();
    expect(second.put).toHaveLength(1);
    expect(second.remove).toEqual([first.put[1]]);
    expect(stored.size).toBe(3);

    const again = recordingSink();
    const restored = new Outbox(again.sink);
    restored.restoreEntries(stored);
    expect(again.writes.map((w) => [w.tenant, samplesOf(w.points).map((x) => x.value)])).toEqual([
      ['acme', [1]],
      ['acme', [3]],
      ['acme', [4]],
    ]);
    expect(restored.changes(false)).toEqual({ put: [], remove: [] }); // restored entries are stored already
    again.writes[0]!.settle();
    expect(restored.changes(false)).toEqual({ put: [], remove: [first.put[0]] });
    // New writes after a restore get names of their own.
    restored.add('acme', [point(6, 40_000)]);
    const [added] = restored.changes(false).put;
    expect([...stored.keys()]).not.toContain(added![0]);
    expect(restored.changes(true).put.map(([field]) => field)).toEqual([first.put[2], second.put[0], added![0]]);
  });

  it('hands a large emission to the sink a bounded slice per turn, so another tenant’s write goes out at once', async () => {
    const { sink, writes } = recordingSink();
    const outbox = new Outbox(sink);
    const buckets = { bounds: [0.1, 1], bucketCounts: [1, 0, 2], count: 3, sum: 7.5 };
    // 10,000 histogram points (3 buckets, sum, count): 50,000 samples for the flooding tenant, in one emission.
    const flood = Array.from({ length: 10_000 }, (_, i): MetricPoint => ({ metric: histogram, labels: [{ name: 'code', value: `c${i}` }], timestampMs: 10_000, startTimestampMs: 0, value: buckets }));
    outbox.add('initech', flood);
    outbox.add('acme', [point(1, 10_000)]);
    // This turn: initech's first slice (up to 20,000 samples, in 1,000-point writes), and acme's write.
    const now = writes.map((w) => [w.tenant, w.points.length]);
    expect(now.filter(([tenant]) => tenant === 'initech').length).toBeLessThan(10);
    expect(now).toContainEqual(['acme', 1]);
    // Everything waiting is in the checkpoint, and all of it reaches the sink in later turns, in order.
    expect(outbox.changes(false).put).toHaveLength(11);
    expect(outbox.size).toBe(50_001);
    for (let turn = 0; turn < 20 && writes.length < 11; turn++) await new Promise((resolve) => setImmediate(resolve));
    const handed = writes.filter((w) => w.tenant === 'initech').flatMap((w) => w.points);
    expect(handed).toEqual(flood);
    for (const write of writes) write.settle();
    expect(outbox.size).toBe(0);
  });
});
