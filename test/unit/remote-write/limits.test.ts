import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { STALE_NAN, isStaleMarker } from '../../../src/core/stale-marker.ts';
import type { Sample } from '../../../src/core/types.ts';
import { decodeRequestBody } from '../../../src/sinks/remote-write/encode.ts';
import { TenantSender } from '../../../src/sinks/remote-write/sender.ts';
import type { SendFunction, TenantSenderConfig } from '../../../src/sinks/remote-write/sender.ts';
import { remoteWriteTenantSchema as tenantConfigSchema } from '../../../src/sinks/registry.ts';
import { labels, RecordingEvents, sample } from './fixtures.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

/** A receiver in memory: records every delivered sample; `reject` decides a 400 for a request. */
function memoryReceiver(reject: (samples: Sample[]) => string | undefined = () => undefined) {
  const delivered: Sample[] = [];
  let requests = 0;
  const send: SendFunction = async (_config, body) => {
    requests++;
    const samples = decodeRequestBody(body);
    const error = reject(samples);
    if (error !== undefined) return { kind: 'permanent', reason: 'http_400', status: 400, error };
    delivered.push(...samples);
    return { kind: 'success', status: 204 };
  };
  return { send, delivered, requests: () => requests };
}

function tenantSender(input: Record<string, unknown>, send: SendFunction, events = new RecordingEvents()) {
  const config = tenantConfigSchema.parse({ endpoint: 'http://127.0.0.1:1/api/v1/write', batch: { max_delay: '1h' }, ...input }) as TenantSenderConfig;
  const s = new TenantSender({ tenant: 't', config, logger: pino({ level: 'silent' }), events, send, random: () => 0 });
  cleanup.push(() => s.close());
  return { s, events };
}

const show = (s: Sample) => `${s.labels.map((l) => `${l.name}=${l.value}`).join(',')} ${s.value}@${s.timestampMs}`;

describe('bisecting a 400', () => {
  it('delivers every good sample and isolates the bad one, counted by reason', async () => {
    const rx = memoryReceiver((samples) => (samples.some((x) => x.timestampMs < 1000) ? 'out of bounds' : undefined));
    const { s, events } = tenantSender({ shards: 1 }, rx.send);
    const batch = Array.from({ length: 100 }, (_, i) => sample('m', i, 1000 + i, { id: String(i % 7) }));
    batch.splice(37, 0, sample('m', -1, 5, { id: 'old' }));
    const outcomes: unknown[] = [];
    s.write(batch, (o) => outcomes.push(o));
    await s.flush();
    await Promise.resolve();
    expect(rx.delivered.map(show).sort()).toEqual(batch.filter((x) => x.timestampMs >= 1000).map(show).sort());
    expect(events.calls.filter((c) => c.startsWith('failed'))).toEqual(['failed t 1 out_of_bounds']);
    expect(outcomes).toEqual([{ delivered: 100, failed: 1, filtered: 0 }]);
    expect(rx.requests()).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(101)) + 1);
  });

  it('stops at its request budget when everything is bad (a replay) and fails the rest by reason', async () => {
    const rx = memoryReceiver(() => 'out of order sample');
    const { s, events } = tenantSender({ shards: 1 }, rx.send);
    s.write(Array.from({ length: 2000 }, (_, i) => sample('m', i, i + 1)));
    await s.flush();
    const failed = events.calls.filter((c) => c.startsWith('failed')).map((c) => c.split(' '));
    expect(failed.every(([, , , reason]) => reason === 'out_of_order')).toBe(true);
    expect(failed.reduce((sum, [, , n]) => sum + Number(n), 0)).toBe(2000);
    expect(rx.requests()).toBe(4 * 11 + 4); // 4·ceil(log2 2000) + 4
  });

  it('does not bisect a malformed-request 400', async () => {
    const rx = memoryReceiver(() => 'cannot decompress request: snappy: corrupt input');
    const { s, events } = tenantSender({ shards: 1 }, rx.send);
    s.write([sample('m', 1, 1), sample('m', 2, 2)]);
    await s.flush();
    expect(rx.requests()).toBe(1);
    expect(events.calls).toEqual(['failed t 2 malformed']);
  });
});

describe('max_active_series and the overflow series', () => {
  it('folds samples of new series beyond the limit into otel_metric_overflow="true", summed per name/le/timestamp', async () => {
    const rx = memoryReceiver();
    const { s } = tenantSender({ shards: 2, limits: { max_active_series: 2 }, extra_labels: { tenant: 't' } }, rx.send);
    const write = (ts: number, ids: string[], value = 1) => s.write(ids.map((id) => sample('reqs_total', value, ts, { user: id })));
    write(1000, ['a', 'b', 'c', 'd', 'e']);
    await s.flush();
    write(2000, ['a', 'b', 'c', 'd', 'e'], 2);
    await s.flush();
    expect(rx.delivered.map(show).sort()).toEqual(
      [
        '__name__=reqs_total,otel_metric_overflow=true,tenant=t 3@1000',
        '__name__=reqs_total,otel_metric_overflow=true,tenant=t 6@2000',
        '__name__=reqs_total,tenant=t,user=a 1@1000',
        '__name__=reqs_total,tenant=t,user=a 2@2000',
        '__name__=reqs_total,tenant=t,user=b 1@1000',
        '__name__=reqs_total,tenant=t,user=b 2@2000',
      ].sort(),
    );
    expect(s.activeSeries).toBe(2);
  });

  it('admits or folds a histogram as a whole, keeping le on the overflow buckets', async () => {
    const rx = memoryReceiver();
    const events = new RecordingEvents();
    const overflowed: number[] = [];
    (events as unknown as { overflowed: (t: string, n: number) => void }).overflowed = (_t, n) => overflowed.push(n);
    const { s } = tenantSender({ shards: 1, limits: { max_active_series: 3 } }, rx.send, events);
    const histogram = (model: string, ts: number) => [
      sample('lat_bucket', 1, ts, { model, le: '0.5' }),
      sample('lat_bucket', 2, ts, { model, le: '+Inf' }),
      sample('lat_sum', 0.7, ts, { model }),
      sample('lat_count', 2, ts, { model }),
    ];
    s.write([...histogram('a', 1000), ...histogram('b', 1000), ...histogram('c', 1000)]);
    await s.flush();
    const names = rx.delivered.map(show).sort();
    expect(names.filter((n) => n.includes('model=a'))).toHaveLength(4); // admitted whole, 4 series > limit 3
    expect(names.filter((n) => n.includes('model=b') || n.includes('model=c'))).toEqual([]);
    expect(names.filter((n) => n.includes('otel_metric_overflow'))).toEqual([
      '__name__=lat_bucket,le=+Inf,otel_metric_overflow=true 4@1000',
      '__name__=lat_bucket,le=0.5,otel_metric_overflow=true 2@1000',
      '__name__=lat_count,otel_metric_overflow=true 4@1000',
      '__name__=lat_sum,otel_metric_overflow=true 1.4@1000',
    ]);
    expect(overflowed).toEqual([8]);
  });

  it('forgets a series sent a stale marker (bit-exact on the wire), freeing its slot', async () => {
    const rx = memoryReceiver();
    const { s } = tenantSender({ shards: 1, limits: { max_active_series: 1 } }, rx.send);
    s.write([sample('g', 1, 1000, { id: 'a' })]);
    s.write([sample('g', STALE_NAN, 2000, { id: 'a' }), sample('g', 5, 2000, { id: 'b' })]);
    await s.flush();
    expect(s.activeSeries).toBe(1);
    const stale = rx.delivered.find((x) => x.timestampMs === 2000 && x.labels.some((l) => l.value === 'a'))!;
    expect(isStaleMarker(stale.value)).toBe(true);
    expect(rx.delivered.map(show)).toContain('__name__=g,id=b 5@2000'); // b got the freed slot, no overflow
  });

  it('filters by the metric allow/deny lists, settling those samples as filtered', async () => {
    const rx = memoryReceiver();
    const { s } = tenantSender({ metrics: { allow: ['app_.*'], deny: ['.*_debug'] } }, rx.send);
    const outcomes: unknown[] = [];
    s.write([sample('app_x', 1, 1), sample('app_debug', 1, 1), sample('other', 1, 1)], (o) => outcomes.push(o));
    await s.flush();
    await Promise.resolve();
    expect(rx.delivered.map(show)).toEqual(['__name__=app_x 1@1']);
    expect(outcomes).toEqual([{ delivered: 1, failed: 0, filtered: 2 }]);
  });

  it('paces sending with max_samples_per_second instead of dropping', async () => {
    const rx = memoryReceiver();
    const { s } = tenantSender({ shards: 1, batch: { max_samples: 50, max_delay: '1h' }, limits: { max_samples_per_second: 500 } }, rx.send);
    const started = Date.now();
    s.write(Array.from({ length: 300 }, (_, i) => sample('m', i, i + 1)));
    await s.flush();
    // Burst = max(rate, batch) = 500 tokens, so 300 go at once; now 300 more must wait ~200 ms for tokens.
    s.write(Array.from({ length: 300 }, (_, i) => sample('m', i, i + 1000)));
    await s.flush();
    const elapsed = Date.now() - started;
    expect(rx.delivered).toHaveLength(600);
    expect(elapsed).toBeGreaterThanOrEqual(180);
    expect(elapsed).toBeLessThan(2_000);
  });
});

describe('labels', () => {
  it("adds the tenant's extra labels, which win over data labels of the same name", async () => {
    const rx = memoryReceiver();
    const { s } = tenantSender({ extra_labels: { tenant: 'acme', region: 'eu' } }, rx.send);
    s.write([sample('m', 1, 1, { tenant: 'globex', job: 'x' })]);
    await s.flush();
    expect(rx.delivered.map((x) => x.labels)).toEqual([labels('m', { job: 'x', region: 'eu', tenant: 'acme' })]);
  });
});
