import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Label, Sample } from '../../src/core/types.ts';
import { RemoteWriteSink } from '../../src/sinks/remote-write/index.ts';
import type { WriteOutcome } from '../../src/sinks/remote-write/index.ts';
import { remoteWriteTenantsSchema as tenantsConfigSchema } from '../../src/sinks/registry.ts';
import { FrontProxy } from '../support/receivers/proxy.ts';
import { eventually, query } from '../support/receivers/query.ts';
import { startPrometheusReceiver, startVictoriaMetrics, type ReceiverHandle } from '../support/receivers/services.ts';

/**
 * Tenant isolation against real receivers, driven like the runtime drives the
 * sink: every second one window of samples per tenant, stamped with the
 * window's end. Five tenants:
 *
 *   a  the stack's Prometheus (acme), direct
 *   b  VictoriaMetrics #1 behind a header router (default route, X-Scope-OrgID: b)
 *   c  its own Prometheus, STOPPED for 60 s, then restarted on the same port and data dir
 *   d  its own Prometheus behind a proxy that answers 429 + Retry-After: 5 for 30 s
 *   e  VictoriaMetrics #2 behind the same header router (X-Scope-OrgID: e)
 *
 * End-to-end delay = from write() to the window's probe sample being returned
 * by an instant query on the tenant's receiver (polled every 100 ms).
 */
const stack = inject('stack');
const RUN = `iso${Date.now().toString(36)}`;
const SERIES = 200;
const WINDOWS = 92;
// VictoriaMetrics makes a *new* series searchable only after several seconds
// (the sink had its 2xx within ~250 ms): the first windows measure that, not
// the sink, so "normal" is taken after it.
const WARMUP = 10;
const FAULT_AT = 16;
const C_DOWN_WINDOWS = 60;
const D_THROTTLED_WINDOWS = 30;
const TENANTS = ['a', 'b', 'c', 'd', 'e'] as const;
type Tenant = (typeof TENANTS)[number];

let dir: string;
let cRx: ReceiverHandle;
let dRx: ReceiverHandle;
let vm1: ReceiverHandle;
let vm2: ReceiverHandle;
let router: FrontProxy;
let dProxy: FrontProxy;
let sink: RemoteWriteSink | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-sink-isolation-'));
  [cRx, dRx, vm1, vm2] = await Promise.all([
    startPrometheusReceiver(join(dir, 'c')),
    startPrometheusReceiver(join(dir, 'd')),
    startVictoriaMetrics(join(dir, 'vm1')),
    startVictoriaMetrics(join(dir, 'vm2')),
  ]);
  router = await FrontProxy.start({ routeHeader: 'X-Scope-OrgID', upstreams: { b: vm1.url, e: vm2.url } });
  dProxy = await FrontProxy.start({ upstreams: { '': dRx.url } });
});

afterAll(async () => {
  await sink?.close(AbortSignal.timeout(1_000));
  await Promise.allSettled([router?.stop(), dProxy?.stop()]);
  await Promise.allSettled([cRx, dRx, vm1, vm2].filter(Boolean).map((rx) => rx.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function receiverUrl(tenant: Tenant): string {
  return { a: stack.prometheus.acme!.url, b: vm1.url, c: cRx.url, d: dRx.url, e: vm2.url }[tenant];
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

describe('remote-write sink: tenant isolation on real receivers', () => {
  it('keeps healthy tenants on time while one receiver is down and one throttles; loses and doubles nothing', async () => {
    const common = { batch: { max_delay: '200ms' }, retry: { initial_backoff: '100ms', max_backoff: '2s' }, timeout: '5s' };
    const section = tenantsConfigSchema.parse({
      a: { endpoint: stack.prometheus.acme!.remoteWriteUrl, ...common },
      c: { endpoint: cRx.remoteWriteUrl, ...common },
      d: { endpoint: dProxy.remoteWriteUrl, ...common },
      default_route: { endpoint: router.remoteWriteUrl, ...common },
    });
    const live = new RemoteWriteSink(section, { logger: pino({ level: 'silent' }) });
    sink = live;

    // Label arrays built once per series and reused every window, as the operators do.
    const seriesLabels: Label[][] = Array.from({ length: SERIES }, (_, i) => [
      { name: '__name__', value: 'iso_load' },
      { name: 'run', value: RUN },
      { name: 'series', value: String(i).padStart(3, '0') },
    ]);
    const probeLabels: Label[] = [
      { name: '__name__', value: 'iso_probe' },
      { name: 'run', value: RUN },
    ];

    const writeAt = new Map<Tenant, number[]>(TENANTS.map((t) => [t, []]));
    const seenAt = new Map<Tenant, number[]>(TENANTS.map((t) => [t, []]));
    const outcomes = new Map<Tenant, WriteOutcome[]>(TENANTS.map((t) => [t, []]));
    const settledAt = new Map<Tenant, number[]>(TENANTS.map((t) => [t, []]));

    // One poller per tenant: the newest probe value visible, and when each window first was.
    let polling = true;
    const pollers = TENANTS.map(async (tenant) => {
      const seen = seenAt.get(tenant)!;
      let newest = -1;
      while (polling) {
        try {
          const result = await query(receiverUrl(tenant), `iso_probe{run="${RUN}"}`);
          const value = result[0]?.value ?? -1;
          const now = Date.now();
          for (let k = newest + 1; k <= value; k++) seen[k] = now;
          newest = Math.max(newest, value);
        } catch {
          // receiver down: try again
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });

    const background: Promise<void>[] = [];
    const start = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    let lastTs = 0;
    for (let k = 0; k < WINDOWS; k++) {
      const ts = start + k * 1000;
      await sleepUntil(ts);
      if (k === FAULT_AT) {
        background.push(cRx.stop());
        dProxy.setFault({ status: 429, headers: { 'Retry-After': '5' }, body: 'ingestion rate limit exceeded' });
      }
      if (k === FAULT_AT + D_THROTTLED_WINDOWS) dProxy.setFault(undefined);
      if (k === FAULT_AT + C_DOWN_WINDOWS) background.push(cRx.start());
      for (const tenant of TENANTS) {
        const samples: Sample[] = seriesLabels.map((labels, i) => ({ labels, value: k * 1000 + i, timestampMs: ts }));
        samples.push({ labels: probeLabels, value: k, timestampMs: ts });
        writeAt.get(tenant)![k] = Date.now();
        live.write(tenant, samples, (outcome) => {
          outcomes.get(tenant)!.push(outcome);
          settledAt.get(tenant)![k] = Date.now();
        });
      }
      lastTs = ts;
    }
    await Promise.all(background);
    await Promise.race([live.flush(), new Promise((resolve) => setTimeout(resolve, 60_000))]);
    await eventually(
      async () => TENANTS.map((t) => seenAt.get(t)![WINDOWS - 1]),
      (seen) => seen.every((at) => at !== undefined),
      30_000,
    );
    polling = false;
    await Promise.all(pollers);

    // Delays, printed for the closing note.
    const report: string[] = [];
    const delays = new Map<Tenant, number[]>();
    for (const tenant of TENANTS) {
      const d = writeAt.get(tenant)!.map((at, k) => seenAt.get(tenant)![k]! - at);
      delays.set(tenant, d);
      const base = d.slice(WARMUP, FAULT_AT);
      const rest = d.slice(WARMUP);
      report.push(
        `${tenant}: baseline p50 ${percentile(base, 50)} ms, p50 ${percentile(rest, 50)} ms, p99 ${percentile(rest, 99)} ms, max ${Math.max(...rest)} ms`,
      );
    }
    if (process.env.SLUICE_ISOLATION_DEBUG) {
      for (const tenant of TENANTS) {
        const settle = writeAt.get(tenant)!.map((at, k) => settledAt.get(tenant)![k]! - at);
        console.log(`${tenant} e2e: ${delays.get(tenant)!.join(' ')}\n${tenant} ack: ${settle.join(' ')}`);
      }
    }
    console.log(`[sink-isolation] end-to-end delay (write → queryable), windows ${WARMUP}..${WINDOWS - 1}:\n  ${report.join('\n  ')}`);

    for (const tenant of ['a', 'b', 'e'] as const) {
      const d = delays.get(tenant)!;
      const normal = percentile(d.slice(WARMUP, FAULT_AT), 50);
      const worst = Math.max(...d.slice(WARMUP));
      expect(worst, `tenant ${tenant}: worst ${worst} ms vs normal ${normal} ms`).toBeLessThanOrEqual(normal + 2_000);
    }

    // Everything settled as delivered.
    for (const tenant of TENANTS) {
      const all = outcomes.get(tenant)!;
      expect(all).toHaveLength(WINDOWS);
      expect(all.reduce((sum, o) => sum + o.failed + o.filtered, 0)).toBe(0);
      expect(all.reduce((sum, o) => sum + o.delivered, 0)).toBe(WINDOWS * (SERIES + 1));
    }

    // Nothing lost or doubled: every series holds exactly one sample per window.
    const range = `${WINDOWS + 30}s`;
    const at = lastTs / 1000;
    for (const tenant of TENANTS) {
      const counts = await eventually(
        () => query(receiverUrl(tenant), `count_over_time(iso_load{run="${RUN}"}[${range}])`, at),
        (r) => r.length === SERIES && r.every((s) => s.value === WINDOWS),
        20_000,
      );
      expect(counts.map((s) => s.value), `tenant ${tenant}`).toEqual(new Array(SERIES).fill(WINDOWS));
      const probe = await query(receiverUrl(tenant), `count_over_time(iso_probe{run="${RUN}"}[${range}])`, at);
      expect(probe.map((s) => s.value), `tenant ${tenant} probe`).toEqual([WINDOWS]);
    }
    // The faults really happened.
    expect(dProxy.requests.some((r) => r.status === 429)).toBe(true);
    expect(router.requests.filter((r) => r.status === 204).map((r) => r.route)).toEqual(expect.arrayContaining(['b', 'e']));
  }, 175_000);
});
