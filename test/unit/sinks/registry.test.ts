import { describe, expect, it } from 'vitest';
import { createPipelineSink, endpointAccessOf, sinkTypeOf, tenantsConfigSchema } from '../../../src/sinks/registry.ts';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

function problems(input: unknown): string[] {
  const result = tenantsConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('tenants: section through the sink registry', () => {
  it('reads the flat form as remote_write, and the explicit remote_write form to the same config', () => {
    const flat = tenantsConfigSchema.parse({ acme: { endpoint: 'http://127.0.0.1:9090/api/v1/write', shards: 2 } });
    const explicit = tenantsConfigSchema.parse({ acme: { sink: { type: 'remote_write', endpoint: 'http://127.0.0.1:9090/api/v1/write', shards: 2 } } });
    expect(explicit).toEqual(flat);
    expect(sinkTypeOf(flat.tenants.acme!)).toBe('remote_write');
  });

  it('parses an otlp tenant with the otlphttp defaults', () => {
    const parsed = tenantsConfigSchema.parse({
      globex: { sink: { type: 'otlp', endpoint: 'http://127.0.0.1:9090/api/v1/otlp' }, extra_labels: { team: 'g' } },
    });
    const tenant = parsed.tenants.globex!;
    expect(sinkTypeOf(tenant)).toBe('otlp');
    expect(tenant).toMatchObject({
      extra_labels: { team: 'g' },
      sink: {
        type: 'otlp',
        endpoint: 'http://127.0.0.1:9090/api/v1/otlp',
        encoding: 'proto',
        compression: 'gzip',
        resource_attributes: { 'service.name': 'sluice' },
        timeout: 10_000,
        batch: { max_points: 2000, max_delay: 1000 },
      },
    });
  });

  it('asks each tenant\'s sink type where its requests go, for the start-up check', () => {
    const parsed = tenantsConfigSchema.parse({
      acme: { endpoint: 'http://127.0.0.1:9090/api/v1/write', headers: { 'X-Scope-OrgID': 'acme' } },
      globex: { sink: { type: 'otlp', endpoint: 'http://127.0.0.1:9090/api/v1/otlp/' } },
    });
    expect(endpointAccessOf(parsed.tenants.acme!)).toMatchObject({ access: { endpoint: 'http://127.0.0.1:9090/api/v1/write', headers: { 'X-Scope-OrgID': 'acme' } }, path: [] });
    expect(endpointAccessOf(parsed.tenants.globex!)).toMatchObject({ access: { endpoint: 'http://127.0.0.1:9090/api/v1/otlp/v1/metrics' }, path: ['sink'] });
  });

  it('names the field at fault inside sink:, not the whole entry', () => {
    expect(problems({ acme: { sink: { type: 'otlp', endpoint: 'ftp://x' } } })).toEqual([
      'acme.sink.endpoint: must be an absolute http:// or https:// URL',
    ]);
    expect(problems({ acme: { sink: { type: 'otlp' } } })).toEqual(['acme.sink.endpoint: set endpoint (base URL) or metrics_endpoint (full URL)']);
    expect(problems({ acme: { sink: { type: 'kafka', endpoint: 'http://x' } } })).toHaveLength(1);
    expect(problems({ acme: { sink: { type: 'otlp', endpoint: 'http://x', shards: 3 } } })).toEqual(['acme.sink: Unrecognized key: "shards"']);
    // Flat form errors keep today's paths.
    expect(problems({ acme: { endpoint: 'http://x', shards: 0 } })).toEqual(['acme.shards: Too small: expected number to be >=1']);
    // Sink options do not belong beside sink:.
    expect(problems({ acme: { sink: { type: 'otlp', endpoint: 'http://x' }, endpoint: 'http://y' } })).toEqual(['acme: Unrecognized key: "endpoint"']);
  });

  it('routes each tenant to its sink type, and unlisted tenants to the default route (remote_write)', async () => {
    const seen: { path: string; tenant: string | undefined }[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ path: req.url ?? '', tenant: req.headers['x-scope-orgid'] as string | undefined });
        res.writeHead(req.url === '/otlp/v1/metrics' ? 200 : 204, req.url === '/otlp/v1/metrics' ? { 'content-type': 'application/x-protobuf' } : {}).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const section = tenantsConfigSchema.parse({
        acme: { endpoint: `${base}/rw`, headers: { 'X-Scope-OrgID': 'acme' } },
        globex: { sink: { type: 'otlp', endpoint: `${base}/otlp` } },
        default_route: { endpoint: `${base}/rw`, tenant_header: 'X-Scope-OrgID' },
      });
      const context = { logger: pino({ level: 'silent' }), registry: new Registry(), shared: <T>(_key: string, make: () => T) => make() };
      const sink = createPipelineSink(section, context);
      const metric = { name: 'up', type: 'gauge' as const, unit: '', help: '' };
      const settled = ['acme', 'globex', 'initech'].map(
        (tenant) => new Promise<void>((resolve) => sink.write(tenant, [{ metric, labels: [{ name: 'job', value: tenant }], timestampMs: Date.now(), value: 1 }], resolve)),
      );
      await sink.flush();
      await Promise.all(settled);
      await sink.close();
      expect(seen.sort((a, b) => a.path.localeCompare(b.path) || String(a.tenant).localeCompare(String(b.tenant)))).toEqual([
        { path: '/otlp/v1/metrics', tenant: undefined },
        { path: '/rw', tenant: 'acme' },
        { path: '/rw', tenant: 'initech' },
      ]);
    } finally {
      server.close();
    }
  });
});
