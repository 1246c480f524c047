import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/core/types.ts';
import type { SendResult } from '../../../src/sinks/remote-write/client.ts';
import { decodeRequestBody } from '../../../src/sinks/remote-write/encode.ts';
import { TenantSender } from '../../../src/sinks/remote-write/sender.ts';
import type { SendFunction } from '../../../src/sinks/remote-write/sender.ts';
import { ManualClock } from './manual-clock.ts';
import { captureLogger, config, RecordingEvents, sample, TestReceiver, waitFor } from './fixtures.ts';

const silent = pino({ level: 'silent' });
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const at = (ts: number): Sample => sample('m', ts, ts);

/**
 * A fake HTTP call that records each request's timestamps and the highest
 * number of concurrent calls, answering from a script (default: success).
 */
function fakeSend(script: SendResult[] = [], latencyMs = 5) {
  const requests: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send: SendFunction = async (_config, body) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    requests.push(decodeRequestBody(body).map((s) => s.timestampMs));
    await delay(latencyMs);
    inFlight--;
    return script.shift() ?? { kind: 'success', status: 204 };
  };
  return { send, requests, maxInFlight: () => maxInFlight };
}

function sender(
  overrides: Record<string, unknown>,
  deps: { send?: SendFunction; events?: RecordingEvents; logger?: ReturnType<typeof captureLogger>['logger']; clock?: ManualClock } = {},
) {
  const events = deps.events ?? new RecordingEvents();
  const s = new TenantSender({
    tenant: 't',
    config: config({ endpoint: 'http://127.0.0.1:1/api/v1/write', shards: 1, ...overrides }),
    logger: deps.logger ?? silent,
    events,
    send: deps.send,
    random: () => 0, // zero backoff: retries happen at once
    clock: deps.clock,
  });
  cleanup.push(() => s.close());
  return { s, events };
}

/** A sender batching up to 100 samples or 150 ms on a manual clock, and the timestamps of each request it makes. */
function delayedSender() {
  const clock = new ManualClock();
  const requests: number[][] = [];
  const send: SendFunction = async (_config, body) => {
    requests.push(decodeRequestBody(body).map((s) => s.timestampMs));
    return { kind: 'success', status: 204 };
  };
  return { ...sender({ batch: { max_samples: 100, max_delay: '150ms' } }, { send, clock }), clock, requests };
}

describe('TenantSender batching', () => {
  it('cuts batches of max_samples, keeps order, and has one request in flight', async () => {
    const fake = fakeSend();
    const { s, events } = sender({ batch: { max_samples: 2, max_delay: '1h' } }, { send: fake.send });
    for (let ts = 1; ts <= 5; ts++) s.write([at(ts)]);
    await s.flush();
    expect(fake.requests).toEqual([[1, 2], [3, 4], [5]]);
    expect(fake.maxInFlight()).toBe(1);
    expect(events.calls).toEqual(['sent t 2', 'sent t 2', 'sent t 1']);
  });

  it('splits and joins enqueued arrays across batch boundaries', async () => {
    const fake = fakeSend();
    const { s } = sender({ batch: { max_samples: 3, max_delay: '1h' } }, { send: fake.send });
    s.write([at(1), at(2)]);
    s.write([at(3), at(4), at(5), at(6), at(7)]);
    s.write([at(8)]);
    await s.flush();
    expect(fake.requests).toEqual([[1, 2, 3], [4, 5, 6], [7, 8]]);
  });

  it('sends a partial batch once max_delay has passed, not before', async () => {
    const { s, clock, requests } = delayedSender();
    s.write([at(1), at(2)]);
    await clock.advance(149);
    expect(requests).toEqual([]);
    await clock.advance(1);
    expect(requests).toEqual([[1, 2]]);
  });

  it('expedite() sends the partial batches queued so far at once, and later writes wait for max_delay again', async () => {
    const { s, clock, requests } = delayedSender();
    s.write([at(1), at(2)]);
    s.expedite();
    await clock.advance(0);
    expect(requests).toEqual([[1, 2]]);
    s.write([at(3)]);
    await clock.advance(149);
    expect(requests).toEqual([[1, 2]]);
    await clock.advance(1);
    expect(requests).toEqual([[1, 2], [3]]);
  });

  it('waits the jittered backoff on the injected clock before retrying', async () => {
    const clock = new ManualClock();
    const script: SendResult[] = [{ kind: 'retryable', reason: 'http_503', status: 503, error: 'busy' }];
    let requests = 0;
    const send: SendFunction = async () => {
      requests++;
      return script.shift() ?? { kind: 'success', status: 204 };
    };
    const s = new TenantSender({
      tenant: 't',
      config: config({ endpoint: 'http://127.0.0.1:1/api/v1/write', shards: 1, retry: { initial_backoff: '100ms' } }),
      logger: silent,
      send,
      random: () => 0.5, // half the 100 ms ceiling
      clock,
    });
    cleanup.push(() => s.close());
    s.write([at(1)]);
    const flushed = s.flush();
    await clock.advance(0);
    expect(requests).toBe(1);
    await clock.advance(49);
    expect(requests).toBe(1);
    await clock.advance(1);
    expect(requests).toBe(2);
    await flushed;
    expect(s.backlog).toBe(0);
  });

  it('holds later batches while a batch is retried, so series order survives retries', async () => {
    const fake = fakeSend([{ kind: 'retryable', reason: 'http_503', status: 503, error: 'busy' }]);
    const { s, events } = sender({ batch: { max_samples: 2, max_delay: '1h' } }, { send: fake.send });
    s.write([at(1), at(2), at(3), at(4)]);
    await s.flush();
    expect(fake.requests).toEqual([[1, 2], [1, 2], [3, 4]]);
    expect(fake.maxInFlight()).toBe(1);
    expect(events.calls).toEqual(['retried t 2', 'sent t 2', 'sent t 2']);
  });

  it('flush() waits only for samples enqueued before it', async () => {
    const fake = fakeSend([], 30);
    const { s } = sender({ batch: { max_samples: 10, max_delay: '1h' } }, { send: fake.send });
    s.write([at(1)]);
    const flushed = s.flush();
    await delay(10); // [1] is in flight now (a batch cut later may carry later samples too)
    s.write([at(2), at(3)]); // neither full nor old: only a flush sends it
    await flushed;
    await delay(50);
    expect(fake.requests).toEqual([[1]]);
    await s.flush();
    expect(fake.requests).toEqual([[1], [2, 3]]);
  });

  it('resolves flush() at once when nothing is pending', async () => {
    const { s, events } = sender({}, { send: fakeSend().send });
    await s.flush();
    expect(events.calls).toEqual([]);
  });

  it('counts invalid samples as failed and sends the rest', async () => {
    const fake = fakeSend();
    const { s, events } = sender({}, { send: fake.send });
    s.write([at(1), { labels: [{ name: '__name__', value: 'm' }, { name: 'bad-name', value: 'x' }], value: 1, timestampMs: 2 }]);
    await s.flush();
    expect(fake.requests).toEqual([[1]]);
    expect(events.calls).toEqual(['failed t 1 invalid_sample', 'sent t 1']);
  });

  it('drop_oldest: drops the oldest queued samples beyond the backlog bound, counted and settled as failed', async () => {
    const fake = fakeSend();
    const { s, events } = sender(
      { batch: { max_samples: 100, max_delay: '1h' }, backlog: { max_samples: 3, policy: 'drop_oldest' } },
      { send: fake.send },
    );
    const outcomes: unknown[] = [];
    s.write([at(1), at(2)], (o) => outcomes.push(['a', o]));
    s.write([at(3), at(4)], (o) => outcomes.push(['b', o]));
    s.write([at(5)], (o) => outcomes.push(['c', o]));
    expect(s.backlog).toBe(3);
    await s.flush();
    expect(fake.requests).toEqual([[3, 4, 5]]);
    expect(events.calls).toEqual(['failed t 1 backlog_full', 'failed t 1 backlog_full', 'sent t 3']);
    expect(outcomes).toEqual([
      ['a', { delivered: 0, failed: 2, filtered: 0 }],
      ['b', { delivered: 2, failed: 0, filtered: 0 }],
      ['c', { delivered: 1, failed: 0, filtered: 0 }],
    ]);
    expect(s.backlog).toBe(0);
  });

  it('block: keeps everything, reports blocked at the bound and unblocked when it drains', async () => {
    const fake = fakeSend([], 20);
    const changes: boolean[] = [];
    const s = new TenantSender({
      tenant: 't',
      config: config({ endpoint: 'http://127.0.0.1:1/api/v1/write', shards: 1, batch: { max_samples: 100, max_delay: '1h' }, backlog: { max_samples: 3 } }),
      logger: silent,
      send: fake.send,
      onBlockedChange: (_tenant, blocked) => changes.push(blocked),
    });
    cleanup.push(() => s.close());
    s.write([at(1), at(2)]);
    expect(s.isBlocked).toBe(false);
    s.write([at(3), at(4)]);
    expect([s.isBlocked, s.backlog]).toEqual([true, 4]);
    await s.flush();
    expect(fake.requests).toEqual([[1, 2, 3, 4]]);
    expect([s.isBlocked, s.backlog]).toEqual([false, 0]);
    expect(changes).toEqual([true, false]);
  });

  it('calls onSettled exactly once per write, asynchronously, with delivered/failed/filtered counts', async () => {
    const fake = fakeSend([{ kind: 'permanent', reason: 'http_404', status: 404, error: 'nope' }]);
    const { s } = sender({ batch: { max_samples: 2, max_delay: '1h' } }, { send: fake.send });
    const outcomes: unknown[] = [];
    const bad = { labels: [{ name: '__name__', value: 'm' }, { name: 'bad-name', value: 'x' }], value: 1, timestampMs: 9 };
    s.write([at(1), at(2), at(3), bad], (o) => outcomes.push(o));
    expect(outcomes).toEqual([]); // never from inside write()
    s.write([], (o) => outcomes.push(o));
    await s.flush();
    await Promise.resolve();
    expect(outcomes).toEqual([
      { delivered: 0, failed: 0, filtered: 0 },
      { delivered: 1, failed: 3, filtered: 0 },
    ]);
  });

  it('counts samples enqueued after close() as failed', async () => {
    const fake = fakeSend();
    const { s, events } = sender({}, { send: fake.send });
    s.write([at(1)]);
    await s.close();
    expect(() => s.write([at(2)])).not.toThrow();
    await s.flush();
    expect(fake.requests).toEqual([[1]]);
    expect(events.calls).toEqual(['sent t 1', 'failed t 1 closed']);
  });
});

describe('TenantSender against an HTTP server', () => {
  async function receiver(): Promise<TestReceiver> {
    const r = await TestReceiver.start();
    cleanup.push(() => r.stop());
    return r;
  }

  function httpSender(r: TestReceiver, overrides: Record<string, unknown> = {}) {
    const log = captureLogger();
    const events = new RecordingEvents();
    const s = new TenantSender({
      tenant: 'acme',
      config: config({
        endpoint: r.url,
        headers: { Authorization: 'Bearer s3cr3t-token', 'X-Scope-OrgID': 'acme' },
        retry: { initial_backoff: '1ms', max_backoff: '5ms', max_attempts: 3 },
        ...overrides,
      }),
      logger: log.logger,
      events,
      random: () => 0.5,
    });
    cleanup.push(() => s.close());
    return { s, events, log };
  }

  it('retries 5xx and 429, then succeeds with the same body', async () => {
    const r = (await receiver()).script({ status: 503, body: 'busy' }, { status: 429, body: 'slow' }, { status: 204 });
    const { s, events } = httpSender(r);
    s.write([at(1), at(2)]);
    await s.flush();
    expect(events.calls).toEqual(['retried acme 2', 'retried acme 2', 'sent acme 2']);
    expect(r.requests).toHaveLength(3);
    expect(r.requests[1]!.body.equals(r.requests[0]!.body)).toBe(true);
    expect(r.requests[2]!.body.equals(r.requests[0]!.body)).toBe(true);
    expect(decodeRequestBody(r.requests[2]!.body).map((x) => x.timestampMs)).toEqual([1, 2]);
  });

  it('does not retry a 400, counts it failed by reason and logs it once without headers', async () => {
    const r = (await receiver()).script({ status: 400, body: 'out of order sample' });
    const { s, events, log } = httpSender(r);
    s.write([at(1)]);
    await s.flush();
    expect(r.requests).toHaveLength(1);
    expect(events.calls).toEqual(['failed acme 1 out_of_order']);
    const warnings = log.lines.filter((l) => (l.level as number) >= 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      tenant: 'acme',
      endpoint: new URL(r.url).origin,
      status: 400,
      reason: 'out_of_order',
      error: 'out of order sample',
      samples: 1,
      msg: 'remote-write receiver rejected samples',
    });
    expect(log.raw.join('')).not.toMatch(/s3cr3t|Authorization|X-Scope-OrgID/i);
  });

  it('scrubs a secret that the receiver echoes back from the logged error', async () => {
    const r = (await receiver()).always({ status: 401, body: 'bad credentials: Bearer s3cr3t-token' });
    const { s, events, log } = httpSender(r);
    s.write([at(1)]);
    await s.flush();
    expect(events.calls).toEqual(['failed acme 1 http_401']);
    expect(log.raw.join('')).toContain('bad credentials: [redacted]');
    expect(log.raw.join('')).not.toContain('s3cr3t');
  });

  it('gives up after max_attempts tries and logs one error', async () => {
    const r = (await receiver()).always({ status: 503, body: 'down' });
    const { s, events, log } = httpSender(r);
    s.write([at(1)]);
    await s.flush();
    expect(r.requests).toHaveLength(3);
    expect(events.calls).toEqual(['retried acme 1', 'retried acme 1', 'failed acme 1 http_503']);
    const errors = log.lines.filter((l) => (l.level as number) >= 50);
    expect(errors.map((l) => [l.status, l.error, l.attempts, l.msg])).toEqual([
      [503, 'down', 3, 'remote-write gave up on the batch after retries'],
    ]);
  });

  it('close(signal) aborts the request in flight and fails what is queued as shutdown', async () => {
    const r = (await receiver()).always({ status: 200, hang: true });
    const { s, events } = httpSender(r, { timeout: '1m', batch: { max_samples: 1, max_delay: '1h' } });
    s.write([at(1), at(2)]);
    await waitFor(() => r.requests.length === 1); // the first request is now hanging
    const started = Date.now();
    await s.close(AbortSignal.timeout(50));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(r.requests).toHaveLength(1);
    expect(events.calls).toEqual(['failed acme 1 shutdown', 'failed acme 1 shutdown']);
  });
});
