import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRequestBody, RemoteWriteSink, UnknownTenantError } from '../../../src/sinks/remote-write/index.ts';
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
});
