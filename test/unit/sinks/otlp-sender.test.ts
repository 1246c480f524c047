import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { MetricDescriptor, MetricPoint } from '../../../src/core/metric-model.ts';
import type { ExportResult, ExportTarget } from '../../../src/sinks/otlp/client.ts';
import { OtlpSink, type OtlpSinkEvents, type OtlpTenant, type OtlpWriteOutcome } from '../../../src/sinks/otlp/index.ts';
import { decodeExportRequest } from '../../../src/sinks/otlp/proto.ts';
import { tenantsConfigSchema } from '../../../src/sinks/registry.ts';

const gauge: MetricDescriptor = { name: 'queue_depth', type: 'gauge', unit: '', help: '' };
const debug: MetricDescriptor = { name: 'queue_debug', type: 'gauge', unit: '', help: '' };

function points(n: number, metric = gauge): MetricPoint[] {
  return Array.from({ length: n }, (_, i) => ({ metric, labels: [{ name: 'i', value: String(i) }], timestampMs: 1_000 + i, value: i }));
}

interface Harness {
  readonly sink: OtlpSink;
  readonly requests: { target: ExportTarget; points: number }[];
  readonly counted: string[];
  settle(write: MetricPoint[]): Promise<OtlpWriteOutcome>;
}

function harness(sinkOptions: Record<string, unknown>, answer: (call: number) => ExportResult, owned: Record<string, unknown> = {}): Harness {
  const section = tenantsConfigSchema.parse({
    acme: { sink: { type: 'otlp', endpoint: 'http://127.0.0.1:9/otlp', compression: 'none', ...sinkOptions }, ...owned },
  });
  const requests: { target: ExportTarget; points: number }[] = [];
  const counted: string[] = [];
  const events: OtlpSinkEvents = {
    points: (tenant, outcome, reason, count) => counted.push(`${tenant} ${outcome} ${reason} ${count}`),
    retried: (tenant, reason) => counted.push(`${tenant} retried ${reason}`),
    sentBytes: () => undefined,
  };
  const sink = new OtlpSink(section.tenants as Record<string, OtlpTenant>, {
    logger: pino({ level: 'silent' }),
    events,
    random: () => 0,
    send: async (target, body) => {
      const request = decodeExportRequest(body) as { resourceMetrics: { scopeMetrics: { metrics: { gauge: { dataPoints: unknown[] } }[] }[] }[] };
      const count = request.resourceMetrics[0]!.scopeMetrics[0]!.metrics.reduce((sum, m) => sum + m.gauge.dataPoints.length, 0);
      requests.push({ target, points: count });
      return answer(requests.length);
    },
  });
  const settle = (write: MetricPoint[]) => new Promise<OtlpWriteOutcome>((resolve) => sink.write('acme', write, resolve));
  return { sink, requests, counted, settle };
}

const ok: ExportResult = { kind: 'success', status: 200 };

describe('OtlpSink', () => {
  it('batches by max_points and settles each write once, after its last point is acknowledged', async () => {
    const h = harness({ batch: { max_points: 3, max_delay: '5ms' } }, () => ok);
    const outcomes = await Promise.all([h.settle(points(4)), h.settle(points(4))]);
    expect(outcomes).toEqual([
      { sent: 4, failed: 0, filtered: 0 },
      { sent: 4, failed: 0, filtered: 0 },
    ]);
    expect(h.requests.map((r) => r.points)).toEqual([3, 3, 2]);
    expect(h.requests[0]!.target.url).toBe('http://127.0.0.1:9/otlp/v1/metrics');
    expect(h.requests[0]!.target.headers['content-type']).toBe('application/x-protobuf');
    await h.sink.close();
  });

  it('expedite() sends every point queued so far without waiting for max_delay', async () => {
    const h = harness({ batch: { max_points: 3, max_delay: '1h' } }, () => ok);
    const outcome = h.settle(points(2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.requests).toEqual([]);
    h.sink.expedite('acme');
    expect(await outcome).toEqual({ sent: 2, failed: 0, filtered: 0 });
    expect(h.requests.map((r) => r.points)).toEqual([2]);
    await h.sink.close();
  });

  it('retries 503 and 429 with the same body, and stops at a 400', async () => {
    const retried = harness({ batch: { max_delay: '1ms' }, retry: { initial_backoff: '1ms', max_backoff: '2ms' } }, (call) =>
      call === 1 ? { kind: 'retryable', reason: 'http_503', error: 'busy', retryAfterMs: 5 } : call === 2 ? { kind: 'retryable', reason: 'http_429', error: '' } : ok,
    );
    expect(await retried.settle(points(2))).toEqual({ sent: 2, failed: 0, filtered: 0 });
    expect(retried.requests).toHaveLength(3);
    expect(retried.counted).toEqual(['acme retried http_503', 'acme retried http_429', 'acme sent  2']);
    await retried.sink.close();

    const refused = harness({ batch: { max_delay: '1ms' } }, () => ({ kind: 'permanent', reason: 'http_400', error: 'bad' }));
    expect(await refused.settle(points(2))).toEqual({ sent: 0, failed: 2, filtered: 0 });
    expect(refused.requests).toHaveLength(1);
    expect(refused.counted).toEqual(['acme failed http_400 2']);
    await refused.sink.close();
  });

  it('gives up after max_attempts', async () => {
    const h = harness({ batch: { max_delay: '1ms' }, retry: { initial_backoff: '1ms', max_backoff: '1ms', max_attempts: 2 } }, () => ({ kind: 'retryable', reason: 'timeout', error: '' }));
    expect(await h.settle(points(1))).toEqual({ sent: 0, failed: 1, filtered: 0 });
    expect(h.requests).toHaveLength(2);
    await h.sink.close();
  });

  it('counts the points a partial_success rejected as failed', async () => {
    const h = harness({ batch: { max_delay: '1ms' } }, () => ({ kind: 'success', status: 200, partial: { rejectedDataPoints: 2, errorMessage: 'too old' } }));
    expect(await h.settle(points(5))).toEqual({ sent: 3, failed: 2, filtered: 0 });
    expect(h.counted).toEqual(['acme sent  3', 'acme failed partial_success 2']);
    await h.sink.close();
  });

  it("applies the tenant's metric filter and settles a write with nothing to send", async () => {
    const h = harness({ batch: { max_delay: '1ms' } }, () => ok, { metrics: { deny: ['.*_debug'] } });
    expect(await h.settle(points(2, debug))).toEqual({ sent: 0, failed: 0, filtered: 2 });
    expect(await h.settle([...points(1, debug), ...points(1)])).toEqual({ sent: 1, failed: 0, filtered: 1 });
    expect(h.requests.map((r) => r.points)).toEqual([1]);
    await h.sink.close();
  });

  it('gives up on the oldest queued points beyond the backlog bound', async () => {
    const h = harness({ batch: { max_points: 100, max_delay: '1h' }, backlog: { max_points: 3 } }, () => ok);
    const first = h.settle(points(2));
    const second = h.settle(points(2));
    await h.sink.flush();
    expect(await first).toEqual({ sent: 1, failed: 1, filtered: 0 });
    expect(await second).toEqual({ sent: 2, failed: 0, filtered: 0 });
    await h.sink.close();
  });

  it('on close past its deadline, fails what the receiver never took with reason shutdown, and refuses later writes', async () => {
    const h = harness({ batch: { max_delay: '1ms' }, retry: { initial_backoff: '1ms', max_backoff: '5ms' } }, () => ({ kind: 'retryable', reason: 'http_503', error: '' }));
    const pending = h.settle(points(3));
    await h.sink.close(AbortSignal.timeout(30));
    expect(await pending).toEqual({ sent: 0, failed: 3, filtered: 0 });
    expect(h.counted.at(-1)).toBe('acme failed shutdown 3');
    expect(await h.settle(points(1))).toEqual({ sent: 0, failed: 1, filtered: 0 });
  });

  it('refuses a tenant it has no endpoint for', () => {
    const h = harness({}, () => ok);
    expect(() => h.sink.write('globex', points(1))).toThrow(/no OTLP endpoint is configured for tenant "globex"/);
  });
});
