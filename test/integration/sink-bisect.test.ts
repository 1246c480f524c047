import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, inject, it } from 'vitest';
import type { Label, Sample } from '../../src/core/types.ts';
import { createSinkMetrics, RemoteWriteSink } from '../../src/sinks/remote-write/index.ts';
import type { WriteOutcome } from '../../src/sinks/remote-write/index.ts';
import { remoteWriteTenantsSchema as tenantsConfigSchema } from '../../src/sinks/registry.ts';
import { eventually, query } from '../support/receivers/query.ts';

/**
 * A 400 from a real Prometheus refuses the whole request; the sink bisects the
 * batch, delivers every good sample and counts the bad ones by the reason
 * parsed from Prometheus' error text.
 */
const stack = inject('stack');
const RUN = `bis${Date.now().toString(36)}`;
const labels = (name: string, id: string): Label[] => [
  { name: '__name__', value: name },
  { name: 'id', value: id },
  { name: 'run', value: RUN },
];

async function failedByReason(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('sluice_remote_write_samples_failed_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.reason), v.value]));
}

describe('remote-write sink: bisecting a rejected batch on a real Prometheus', () => {
  it('delivers every other sample of a batch with one out-of-bounds sample (3 h old) and counts it by reason', async () => {
    const registry = new Registry();
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({ acme: { endpoint: stack.prometheus.acme!.remoteWriteUrl, shards: 1, batch: { max_delay: '50ms' } } }),
      { logger: pino({ level: 'silent' }), events: createSinkMetrics(registry) },
    );
    const now = Date.now();
    // Prime the head so its valid time range starts near now (an empty head would take any timestamp).
    sink.write('acme', [{ labels: labels('bisect_prime', 'p'), value: 1, timestampMs: now - 1_000 }]);
    await sink.flush();

    const batch: Sample[] = Array.from({ length: 64 }, (_, i) => ({ labels: labels('bisect_good', String(i)), value: i, timestampMs: now }));
    batch.splice(23, 0, { labels: labels('bisect_bad', 'old'), value: 1, timestampMs: now - 3 * 3_600_000 });
    let outcome: WriteOutcome | undefined;
    sink.write('acme', batch, (o) => (outcome = o));
    await sink.flush();
    await Promise.resolve();

    expect(outcome).toEqual({ delivered: 64, failed: 1, filtered: 0 });
    expect(await failedByReason(registry)).toEqual({ out_of_bounds: 1 });
    const good = await eventually(
      () => query(stack.prometheus.acme!.url, `bisect_good{run="${RUN}"}`),
      (r) => r.length === 64,
    );
    expect(good.map((s) => Number(s.metric.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(await query(stack.prometheus.acme!.url, `count_over_time(bisect_bad{run="${RUN}"}[4h])`)).toEqual([]);
    await sink.close();
  });

  it("classifies Prometheus' out-of-order and duplicate answers, delivering the rest", async () => {
    const registry = new Registry();
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({ acme: { endpoint: stack.prometheus.acme!.remoteWriteUrl, shards: 1, batch: { max_delay: '50ms' } } }),
      { logger: pino({ level: 'silent' }), events: createSinkMetrics(registry) },
    );
    const now = Date.now();
    sink.write('acme', [
      { labels: labels('bisect_series', 'x'), value: 1, timestampMs: now },
      { labels: labels('bisect_series', 'y'), value: 1, timestampMs: now },
    ]);
    await sink.flush();
    const batch: Sample[] = [
      ...Array.from({ length: 30 }, (_, i) => ({ labels: labels('bisect_more', String(i)), value: i, timestampMs: now })),
      { labels: labels('bisect_series', 'x'), value: 2, timestampMs: now - 1_000 }, // older than the newest: out of order
      { labels: labels('bisect_series', 'y'), value: 9, timestampMs: now }, // same timestamp, other value: duplicate
      { labels: labels('bisect_series', 'x'), value: 1, timestampMs: now }, // same timestamp, same value: accepted
    ];
    let outcome: WriteOutcome | undefined;
    sink.write('acme', batch, (o) => (outcome = o));
    await sink.flush();
    await Promise.resolve();
    expect(outcome).toEqual({ delivered: 31, failed: 2, filtered: 0 });
    expect(await failedByReason(registry)).toEqual({ out_of_order: 1, duplicate: 1 });
    await eventually(() => query(stack.prometheus.acme!.url, `bisect_more{run="${RUN}"}`), (r) => r.length === 30);
    await sink.close();
  });

  it('delivers the new windows of a batch that starts with windows Prometheus already has (a stage-2 replay after a restore)', async () => {
    const registry = new Registry();
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({ acme: { endpoint: stack.prometheus.acme!.remoteWriteUrl, shards: 1, batch: { max_delay: '50ms' } } }),
      { logger: pino({ level: 'silent' }), events: createSinkMetrics(registry) },
    );
    const end = Math.floor(Date.now() / 10_000) * 10_000;
    const windows = (from: number, to: number): Sample[] =>
      Array.from({ length: to - from }, (_, w) => Array.from({ length: 40 }, (_, i) => ({ labels: labels('bisect_window', String(i)), value: i + from + w, timestampMs: end - (10 - from - w) * 10_000 }))).flat();
    // Windows 1..6 were delivered before the crash; the successor replays 2..6 and goes on with 7 and 8.
    sink.write('acme', windows(1, 7));
    await sink.flush();
    let outcome: WriteOutcome | undefined;
    sink.write('acme', [...windows(2, 7), ...windows(7, 9)], (o) => (outcome = o));
    await sink.flush();
    await Promise.resolve();
    // Windows 2..5 are refused as out of order; window 6, the newest stored with the same values, is taken again.
    expect(outcome).toEqual({ delivered: 3 * 40, failed: 4 * 40, filtered: 0 });
    expect(await failedByReason(registry)).toEqual({ out_of_order: 4 * 40 });
    const newest = await eventually(
      () => query(stack.prometheus.acme!.url, `timestamp(bisect_window{run="${RUN}"})`),
      (r) => r.length === 40 && r.every((s) => s.value === (end - 2 * 10_000) / 1000),
    );
    expect(newest).toHaveLength(40);
    await sink.close();
  });
});
