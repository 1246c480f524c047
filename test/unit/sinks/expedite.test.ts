/**
 * `MetricSink.expedite(tenant)` end to end: the outbox calls it when a window fires, and it must
 * reach the named tenant's sender through every layer between (TenantSinks, the registry's
 * TenantRouter, remote-write's RemoteWritePointSink, RemoteWriteSink, OtlpSink) — and only that
 * tenant's. Each layer is unit-tested on its own; this is the wiring. Batches wait 60 s here, so a
 * request that arrives at all arrived because expedite asked for it.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../../src/core/metric-model.ts';
import { TenantSinks } from '../../../src/runtime/tenant-sinks.ts';
import { sinkContext } from '../../support/sink-context.ts';
import { createPipelineSink, tenantsConfigSchema, type BuiltSink } from '../../../src/sinks/registry.ts';

/** Requests received, as `path tenant-header`, in arrival order. */
let seen: string[] = [];
let server: Server | undefined;

async function receiver(): Promise<string> {
  seen = [];
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(`${req.url} ${req.headers['x-scope-orgid'] ?? '-'}`);
      const otlp = req.url === '/otlp/v1/metrics';
      res.writeHead(otlp ? 200 : 204, otlp ? { 'content-type': 'application/x-protobuf' } : {}).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(() => {
  server?.close();
  server = undefined;
});

function section(base: string) {
  const batch = { max_delay: '60s' };
  return tenantsConfigSchema.parse({
    acme: { endpoint: `${base}/rw`, headers: { 'X-Scope-OrgID': 'acme' }, batch },
    globex: { sink: { type: 'otlp', endpoint: `${base}/otlp`, batch } },
    default_route: { endpoint: `${base}/rw`, tenant_header: 'X-Scope-OrgID', batch },
  });
}

const metric = { name: 'up', type: 'gauge' as const, unit: '', help: '' };
const point = (tenant: string): MetricPoint => ({ metric, labels: [{ name: 'job', value: tenant }], timestampMs: Date.now(), value: 1 });

/** Waits (bounded) until `count` requests have arrived. */
async function requests(count: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  while (seen.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return [...seen];
}

/** Writes one point per tenant, then expedites them one at a time: each send is that tenant's alone. */
async function expediteOneByOne(sink: BuiltSink): Promise<void> {
  const settled = ['acme', 'globex', 'initech'].map((tenant) => new Promise<void>((resolve) => sink.write(tenant, [point(tenant)], resolve)));
  // Nothing is due for 60 s: give any wrongly scheduled send a chance to show up first.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(seen).toEqual([]);
  sink.expedite?.('globex');
  expect(await requests(1)).toEqual(['/otlp/v1/metrics -']);
  sink.expedite?.('initech'); // no sink of its own: the default route's
  expect(await requests(2)).toEqual(['/otlp/v1/metrics -', '/rw initech']);
  sink.expedite?.('acme');
  expect(await requests(3)).toEqual(['/otlp/v1/metrics -', '/rw initech', '/rw acme']);
  await Promise.all(settled);
  await sink.close(AbortSignal.timeout(5_000));
}

describe('expedite through the sink layers', () => {
  it('the registry\'s router sends only the named tenant\'s queue, at once', async () => {
    const base = await receiver();
    await expediteOneByOne(createPipelineSink(section(base), sinkContext()));
  });

  it('the runtime\'s per-tenant sinks do the same', async () => {
    const base = await receiver();
    await expediteOneByOne(new TenantSinks(section(base), sinkContext(), () => {}, pino({ level: 'silent' })));
  });
});
