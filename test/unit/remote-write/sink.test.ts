import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRequestBody, RemoteWriteSink, UnknownTenantError } from '../../../src/sinks/remote-write/index.ts';
import { remoteWriteTenantsSchema as tenantsConfigSchema } from '../../../src/sinks/registry.ts';
import { config, RecordingEvents, sample, TestReceiver, waitFor } from './fixtures.ts';

const receivers: TestReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
});

async function receiver(): Promise<TestReceiver> {
  const r = await TestReceiver.start();
  receivers.push(r);
  return r;
}

describe('RemoteWriteSink', () => {
  it("sends each tenant's samples only to that tenant's endpoint, with its headers", async () => {
    const [acmeRx, globexRx] = [await receiver(), await receiver()];
    const events = new RecordingEvents();
    const sink = new RemoteWriteSink(
      {
        acme: config({ endpoint: acmeRx.url, headers: { 'X-Scope-OrgID': 'acme' } }),
        globex: config({ endpoint: globexRx.url, headers: { 'X-Scope-OrgID': 'globex' } }),
      },
      { logger: pino({ level: 'silent' }), events },
    );
    expect(sink.tenants).toEqual(['acme', 'globex']);
    const acme = [sample('m', 1, 1000, { who: 'acme' })];
    const globex = [sample('m', 2, 1000, { who: 'globex' }), sample('m', 3, 2000, { who: 'globex' })];
    sink.write('acme', acme);
    sink.write('globex', globex);
    await sink.flush();
    expect(acmeRx.requests.map((r) => [r.headers['x-scope-orgid'], decodeRequestBody(r.body)])).toEqual([['acme', acme]]);
    expect(globexRx.requests.map((r) => [r.headers['x-scope-orgid'], decodeRequestBody(r.body)])).toEqual([['globex', globex]]);
    expect(events.calls.sort()).toEqual(['sent acme 1', 'sent globex 2']);
    await sink.close();
  });

  it('throws UnknownTenantError for a tenant without endpoint, including inherited object keys', async () => {
    const sink = new RemoteWriteSink(
      { acme: config({ endpoint: 'http://127.0.0.1:1/api/v1/write' }) },
      { logger: pino({ level: 'silent' }) },
    );
    for (const tenant of ['globex', 'constructor', '__proto__', 'toString']) {
      let thrown: unknown;
      try {
        sink.write(tenant, [sample('m', 1, 1)]);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnknownTenantError);
      expect((thrown as UnknownTenantError).tenant).toBe(tenant);
      expect((thrown as Error).message).toBe(`no remote-write endpoint is configured for tenant ${JSON.stringify(tenant)}`);
    }
    await sink.close();
  });

  it('keeps a failing tenant from delaying another tenant', async () => {
    const [slowRx, fastRx] = [await receiver(), await receiver()];
    slowRx.always({ status: 200, hang: true });
    const sink = new RemoteWriteSink(
      {
        slow: config({ endpoint: slowRx.url, timeout: '1m', batch: { max_delay: '0s' } }),
        fast: config({ endpoint: fastRx.url, batch: { max_delay: '0s' } }),
      },
      { logger: pino({ level: 'silent' }) },
    );
    sink.write('slow', [sample('m', 1, 1)]);
    sink.write('fast', [sample('m', 2, 1)]);
    await waitFor(() => fastRx.requests.length === 1 && slowRx.requests.length === 1);
    await sink.close(AbortSignal.timeout(10));
  });

  it('serves undeclared tenants through the default route, with the tenant id in the tenant header', async () => {
    const [declaredRx, routeRx] = [await receiver(), await receiver()];
    const events = new RecordingEvents();
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({
        acme: { endpoint: declaredRx.url },
        default_route: { endpoint: routeRx.url, max_tenants: 2, headers: { 'X-Source': 'sluice' } },
      }),
      { logger: pino({ level: 'silent' }), events },
    );
    sink.write('acme', [sample('m', 1, 1)]);
    sink.write('zeta', [sample('m', 2, 1)]);
    sink.write('eta.2', [sample('m', 3, 1)]);
    const refused: unknown[] = [];
    sink.write('theta', [sample('m', 4, 1)], (o) => refused.push(o)); // beyond max_tenants
    expect(() => sink.write('bad tenant', [sample('m', 5, 1)])).toThrow(UnknownTenantError);
    await sink.flush();
    expect(declaredRx.requests.map((r) => r.headers['x-scope-orgid'])).toEqual([undefined]);
    expect(routeRx.requests.map((r) => [r.headers['x-scope-orgid'], r.headers['x-source']]).sort()).toEqual([
      ['eta.2', 'sluice'],
      ['zeta', 'sluice'],
    ]);
    expect(refused).toEqual([{ delivered: 0, failed: 1, filtered: 0 }]);
    expect(events.calls.sort()).toEqual(['failed theta 1 too_many_tenants', 'sent acme 1', 'sent eta.2 1', 'sent zeta 1']);
    expect(sink.tenants.sort()).toEqual(['acme', 'eta.2', 'zeta']);
    await sink.close();
  });

  it('keeps histograms whole only for tenants with native_custom_buckets on a protocol that carries them (the route\'s setting for its tenants)', async () => {
    const endpoint = 'http://127.0.0.1:9/api/v1/write';
    const native = { endpoint, histograms: 'native_custom_buckets' };
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({
        on_v2: { ...native, protocol: 'v2' },
        on_auto: { ...native, protocol: 'auto' },
        on_v1: { ...native, protocol: 'v1' },
        classic_v2: { endpoint, protocol: 'v2' },
        default_route: { ...native, protocol: 'v2' },
      }),
      { logger: pino({ level: 'silent' }) },
    );
    const tenants = ['on_v2', 'on_auto', 'on_v1', 'classic_v2', 'routed'];
    expect(tenants.map((t) => [t, sink.nativeHistograms(t)])).toEqual([
      ['on_v2', true],
      ['on_auto', true],
      ['on_v1', false],
      ['classic_v2', false],
      ['routed', true],
    ]);
    const routeless = new RemoteWriteSink(tenantsConfigSchema.parse({ on_v2: { ...native, protocol: 'v2' } }), { logger: pino({ level: 'silent' }) });
    expect(routeless.nativeHistograms('other')).toBe(false);
    await Promise.all([sink.close(), routeless.close()]);
  });

  it("reports each tenant's backlog and blocked state", async () => {
    const rx = await receiver();
    rx.always({ status: 200, hang: true });
    const sink = new RemoteWriteSink(
      { slow: config({ endpoint: rx.url, timeout: '1m', shards: 1, batch: { max_delay: '0s' }, backlog: { max_samples: 2 } }) },
      { logger: pino({ level: 'silent' }) },
    );
    sink.write('slow', [sample('m', 1, 1)]);
    expect([sink.backlog('slow'), sink.isBlocked('slow')]).toEqual([1, false]);
    sink.write('slow', [sample('m', 2, 2)]);
    expect([sink.backlog('slow'), sink.isBlocked('slow')]).toEqual([2, true]);
    expect([sink.backlog('other'), sink.isBlocked('other')]).toEqual([0, false]);
    await sink.close(AbortSignal.timeout(50));
    expect([sink.backlog('slow'), sink.isBlocked('slow')]).toEqual([0, false]);
  });
});
