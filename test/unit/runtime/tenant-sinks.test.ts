import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../../src/core/metric-model.ts';
import { remoteWriteTenantsSchema, type TenantsConfig } from '../../../src/sinks/registry.ts';
import { sinkContext } from '../../support/sink-context.ts';
import { TenantSinks } from '../../../src/runtime/tenant-sinks.ts';

function section(tenants: Record<string, string>): TenantsConfig {
  return remoteWriteTenantsSchema.parse(Object.fromEntries(Object.entries(tenants).map(([id, endpoint]) => [id, { endpoint }]))) as TenantsConfig;
}


/** The dropped path counts points and never reads them. */
const POINTS = [{}, {}] as unknown as MetricPoint[];

describe('tenant sinks', () => {
  it('a removed tenant: later writes are dropped, counted and settled at once; the others are untouched', async () => {
    const dropped: [string, number][] = [];
    const sinks = new TenantSinks(section({ acme: 'http://127.0.0.1:9/a', globex: 'http://127.0.0.1:9/g' }), sinkContext(), (t, n) => dropped.push([t, n]), pino({ level: 'silent' }));
    expect(sinks.tenants).toEqual(['acme', 'globex']);
    const prepared = sinks.prepare(section({ acme: 'http://127.0.0.1:9/a', initech: 'http://127.0.0.1:9/i' }));
    expect(sinks.tenants).toEqual(['acme', 'globex']); // nothing changes before commit
    prepared.commit();
    expect(sinks.tenants).toEqual(['acme', 'initech']);
    let settled = false;
    sinks.write('globex', POINTS, () => (settled = true));
    expect(settled).toBe(true);
    expect(dropped).toEqual([['globex', 2]]);
    await sinks.close(AbortSignal.timeout(1_000));
  });

  it('a sink that cannot be built refuses the reload with nothing changed', async () => {
    const sinks = new TenantSinks(section({ acme: 'http://127.0.0.1:9/a' }), sinkContext(), () => {}, pino({ level: 'silent' }));
    const broken = remoteWriteTenantsSchema.parse({ acme: { endpoint: 'http://127.0.0.1:9/a' }, hooli: { endpoint: 'http://127.0.0.1:9/h', auth: { bearer_token_env: 'SLUICE_TEST_UNSET_TOKEN' } } }) as TenantsConfig;
    expect(() => sinks.prepare(broken)).toThrow(/SLUICE_TEST_UNSET_TOKEN/);
    expect(sinks.tenants).toEqual(['acme']);
    await sinks.close(AbortSignal.timeout(1_000));
  });
});
