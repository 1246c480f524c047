import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../../src/config/load.ts';
import { withRegistryTenants } from '../../../src/config/registry-tenants.ts';
import { registryEntry } from '../../../src/tenancy/registry.ts';
import { SHOP_PIPELINE_HEAD } from '../../support/pipelines/shop-pipeline.ts';

const PIPELINE = `${SHOP_PIPELINE_HEAD}metrics: [{ name: calls_total, type: counter, labels: { model: model } }]
dead_letter: { topic: shop.dlq }
tenants:
  acme: { endpoint: "http://127.0.0.1:9/acme" }
`;
const loaded = parsePipeline(PIPELINE, 'shop.yaml', {});
const SECRET = 's3cr3t-token-value';

describe('tenant registry entries', () => {
  it('maps hash fields onto a tenant entry, secrets by environment variable name only', () => {
    expect(
      registryEntry({ endpoint: 'http://r/w', bearer_token_env: 'HOOLI_TOKEN', 'header.X-Scope-OrgID': 'hooli', 'header_env.X-Key': 'HOOLI_KEY', 'label.team': 'search', max_active_series: '50' }),
    ).toEqual({
      entry: {
        endpoint: 'http://r/w',
        headers: { 'X-Scope-OrgID': 'hooli', 'X-Key': { value_from_env: 'HOOLI_KEY' } },
        auth: { bearer_token_env: 'HOOLI_TOKEN' },
        extra_labels: { team: 'search' },
        limits: { max_active_series: 50 },
      },
    });
    expect(registryEntry({ endpoint: 'http://r/v1/metrics', protocol: 'otlp' })).toEqual({ entry: { sink: { type: 'otlp', endpoint: 'http://r/v1/metrics' } } });
  });

  it('refuses unknown fields (a secret value among them) naming the field, never the value', () => {
    expect(registryEntry({ endpoint: 'http://r/w', bearer_token: SECRET })).toEqual({ problem: 'unknown field bearer_token' });
    expect(registryEntry({ bearer_token_env: 'X' })).toEqual({ problem: 'field endpoint is missing' });
    expect(registryEntry({ endpoint: 'http://r/w', max_active_series: 'lots' })).toEqual({ problem: 'field max_active_series is not a number' });
    expect(registryEntry({ endpoint: 'http://r/w', protocol: 'carrier-pigeon' })).toEqual({ problem: 'field protocol must be remote_write or otlp' });
  });

  it('adds valid registry tenants; the file wins on conflict; an invalid entry keeps its last valid version', () => {
    const hashes = new Map<string, Record<string, string>>([
      ['hooli', { endpoint: 'http://127.0.0.1:9/hooli', bearer_token_env: 'HOOLI_TOKEN' }],
      ['acme', { endpoint: 'http://127.0.0.1:9/elsewhere' }],
      ['pied', { endpoint: 'http://127.0.0.1:9/pied', bearer_token_env: 'MISSING' }],
      ['gavin', { endpoint: `http://user:${SECRET}@127.0.0.1:9/w` }],
    ]);
    const first = withRegistryTenants(loaded, hashes, new Map(), { HOOLI_TOKEN: SECRET });
    expect(Object.keys(first.loaded.config.tenants.tenants).sort()).toEqual(['acme', 'hooli']);
    expect(first.loaded.config.tenants.tenants.acme).toMatchObject({ endpoint: 'http://127.0.0.1:9/acme' });
    expect(first.shadowed).toEqual(['acme']);
    expect(first.refused.map((r) => r.split(':')[0])).toEqual(['pied', 'gavin']);
    expect(first.refused.join('\n')).not.toContain(SECRET);

    const broken = new Map([['hooli', { endpoint: 'not a url' }]]);
    const second = withRegistryTenants(loaded, broken, first.accepted, { HOOLI_TOKEN: SECRET });
    expect(second.refused).toHaveLength(1);
    expect(second.loaded.config.tenants.tenants.hooli).toEqual(first.loaded.config.tenants.tenants.hooli);
    // Gone from the registry: gone from the pipeline.
    expect(Object.keys(withRegistryTenants(loaded, new Map(), first.accepted).loaded.config.tenants.tenants)).toEqual(['acme']);
  });
});
