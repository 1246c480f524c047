import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/core/types.ts';
import { decodeRequestBody } from '../../../src/sinks/remote-write/encode.ts';
import { TenantSender } from '../../../src/sinks/remote-write/sender.ts';
import type { SendFunction, TenantSenderConfig } from '../../../src/sinks/remote-write/sender.ts';
import { remoteWriteTenantSchema as tenantConfigSchema } from '../../../src/sinks/registry.ts';
import { RecordingEvents, sample } from './fixtures.ts';

/**
 * After a stage-2 restore, the samples of the windows fired since the checkpoint are sent again
 * (the replay), in the same batches as the new windows that follow. A Prometheus 2.x receiver
 * refuses a whole request for one sample older than its series' newest (out of order) or a
 * different value at its newest timestamp (duplicate), so the sink bisects. The replayed samples
 * are already stored; the new ones must all be delivered however many replayed ones surround them.
 */
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

/** Prometheus 2.x's head appender in memory: per series the newest sample; a request is all or nothing. */
function prometheus2() {
  const newest = new Map<string, { t: number; v: number }>();
  /** Every sample stored, as `key@t`. */
  const stored = new Set<string>();
  let requests = 0;
  const key = (s: Sample) => s.labels.map((l) => `${l.name}=${l.value}`).join(',');
  const send: SendFunction = async (_config, body) => {
    requests++;
    const samples = decodeRequestBody(body);
    const staged = new Map<string, { t: number; v: number }>();
    for (const s of samples) {
      const k = key(s);
      const head = staged.get(k) ?? newest.get(k);
      if (head && s.timestampMs < head.t) return { kind: 'permanent', reason: 'http_400', status: 400, error: 'out of order sample' };
      if (head && s.timestampMs === head.t && !Object.is(head.v, s.value)) return { kind: 'permanent', reason: 'http_400', status: 400, error: 'duplicate sample for timestamp' };
      staged.set(k, { t: s.timestampMs, v: s.value });
    }
    for (const [k, head] of staged) newest.set(k, head);
    for (const s of samples) stored.add(`${key(s)}@${s.timestampMs}`);
    return { kind: 'success', status: 204 };
  };
  return { send, newest, stored, key, requests: () => requests };
}

function tenantSender(send: SendFunction, events = new RecordingEvents()) {
  const config = tenantConfigSchema.parse({ endpoint: 'http://127.0.0.1:1/api/v1/write', batch: { max_delay: '1h' }, shards: 1 }) as TenantSenderConfig;
  const s = new TenantSender({ tenant: 't', config, logger: pino({ level: 'silent' }), events, send, random: () => 0 });
  cleanup.push(() => s.close());
  return { s, events };
}

/** Every series' sample at each window end: the output of `windows` windows of `series` series. */
function windows(series: number, from: number, to: number, first = 0): Sample[] {
  const out: Sample[] = [];
  for (let w = from; w < to; w++) for (let i = first; i < first + series; i++) out.push(sample('score', i * 1000 + w, w * 10_000, { id: String(i) }));
  return out;
}

describe('a replay after a restore, in the same batch as new windows', () => {
  it('delivers every new sample whatever number of replayed windows comes before them', async () => {
    const rx = prometheus2();
    const { s, events } = tenantSender(rx.send);
    // Delivered before the crash: windows 1..6 of 60 series.
    s.write(windows(60, 1, 7));
    await s.flush();
    // The successor restored a checkpoint taken after window 1: windows 2..6 again, then 7 and 8 are new.
    s.write([...windows(60, 2, 7), ...windows(60, 7, 9)]);
    await s.flush();
    const missing = [...Array(60).keys()].filter((i) => rx.newest.get(rx.key(sample('score', 0, 0, { id: String(i) })))?.t !== 8 * 10_000);
    const failed = events.calls.filter((c) => c.startsWith('failed')).map((c) => c.split(' '));
    expect(missing, `series without window 8 (${rx.requests()} requests; ${failed.map((f) => f.join(' ')).join(', ')})`).toEqual([]);
    // Windows 2..5 are refused (out of order); window 6 is the newest stored, the same values: taken again.
    expect(failed.every(([, , , reason]) => reason === 'out_of_order')).toBe(true);
    expect(failed.reduce((sum, [, , n]) => sum + Number(n), 0)).toBe(4 * 60);
    // The first request, then per batch one bisect budget inside the oldest window and about two requests per window.
    expect(rx.requests()).toBeLessThan(1 + 2 * (4 * 9 + 4 + 2 * 7 + 1));
  });

  it('delivers a partition\'s new windows that share their window ends with another partition\'s refused ones', async () => {
    const rx = prometheus2();
    const { s, events } = tenantSender(rx.send);
    // Before the crash, one shard: stage-2 partition A (30 series) caught up and delivered windows 1..8,
    // partition B (30 other series) lagged and delivered 1..5 only.
    s.write(windows(30, 1, 9, 0));
    s.write(windows(30, 1, 6, 30));
    await s.flush();
    // The successor replays both from a checkpoint taken after window 1, window by window and partition
    // by partition, then window 9: A 2..7 and B 2..4 are refused; B 6..8 are new and share their
    // window ends with A's refused or re-taken samples.
    for (let w = 2; w < 10; w++) {
      s.write(windows(30, w, w + 1, 0));
      s.write(windows(30, w, w + 1, 30));
    }
    await s.flush();
    const lost: string[] = [];
    for (let i = 30; i < 60; i++) for (const w of [6, 7, 8, 9]) if (!rx.stored.has(`${rx.key(sample('score', 0, 0, { id: String(i) }))}@${w * 10_000}`)) lost.push(`${i}@${w}`);
    const failed = events.calls.filter((c) => c.startsWith('failed')).map((c) => c.split(' '));
    expect(lost, `new samples not stored (${rx.requests()} requests)`).toEqual([]);
    expect(failed.every(([, , , reason]) => reason === 'out_of_order')).toBe(true);
    expect(failed.reduce((sum, [, , n]) => sum + Number(n), 0)).toBe((6 + 3) * 30);
  });

  it('still isolates a single refused sample inside the new windows', async () => {
    const rx = prometheus2();
    const { s, events } = tenantSender(rx.send);
    s.write(windows(60, 1, 3));
    await s.flush();
    // Series 17 already has a sample at window 4 (another writer): its window 3 is refused, nothing else.
    s.write([sample('score', -1, 4 * 10_000, { id: '17' })]);
    await s.flush();
    s.write(windows(60, 3, 5).filter((x) => !(x.timestampMs === 4 * 10_000 && x.labels.some((l) => l.value === '17'))));
    await s.flush();
    const newest = (i: number) => rx.newest.get(rx.key(sample('score', 0, 0, { id: String(i) })))?.t;
    expect([...Array(60).keys()].filter((i) => newest(i) !== 4 * 10_000)).toEqual([]);
    expect(events.calls.filter((c) => c.startsWith('failed'))).toEqual(['failed t 1 out_of_order']);
  });
});
