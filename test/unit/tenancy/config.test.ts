import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { tenantsConfigSchema } from '../../../src/sinks/registry.ts';
import { resolveEndpoint, scrubSecrets, TenantConfigError } from '../../../src/sinks/http/secrets.ts';

function issues(input: unknown): string[] {
  const result = tenantsConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('tenantsConfigSchema', () => {
  it("accepts the shipped pipeline's minimal tenants section unchanged", () => {
    const pipeline = parse(readFileSync(new URL('../../../pipelines/bailian-gateway.yaml', import.meta.url), 'utf8')) as {
      tenants: Record<string, { endpoint: string }>;
    };
    const section = JSON.parse(JSON.stringify(pipeline.tenants).replace(/\$\{[A-Z_]+:-([^}]+)\}/g, '$1')) as unknown;
    const parsed = tenantsConfigSchema.parse(section);
    expect(Object.keys(parsed.tenants)).toEqual(['acme', 'globex', 'initech']);
    expect(parsed.default_route).toBeUndefined();
    expect(parsed.tenants.globex).toMatchObject({
      endpoint: 'http://127.0.0.1:9192/api/v1/write',
      headers: { 'X-Scope-OrgID': 'globex' },
      extra_labels: {},
      metrics: { allow: [], deny: [] },
      backlog: { max_samples: 500_000, policy: 'block' },
      limits: { series_ttl: 900_000, max_label_value_length: 2048 },
    });
  });

  it('parses a full tenant and a default route', () => {
    const parsed = tenantsConfigSchema.parse({
      acme: {
        endpoint: 'https://prom.acme/api/v1/write',
        auth: { bearer_token_env: 'ACME_TOKEN' },
        headers: { 'X-Scope-OrgID': 'acme', 'X-Key': { value_from_env: 'ACME_KEY' } },
        tls: { ca_file: '/ca.pem' },
        extra_labels: { tenant: 'acme' },
        metrics: { allow: ['bailian_.*'], deny: ['.*_debug'] },
        limits: { max_active_series: 1000, max_samples_per_second: 500, series_ttl: '5m' },
        backlog: { max_samples: 10_000, policy: 'drop_oldest' },
      },
      default_route: { endpoint: 'http://mimir:8080/api/v1/push' },
    });
    expect(parsed.tenants.acme!.limits).toMatchObject({ max_active_series: 1000, max_samples_per_second: 500, series_ttl: 300_000 });
    expect(parsed.default_route).toMatchObject({ endpoint: 'http://mimir:8080/api/v1/push', tenant_header: 'X-Scope-OrgID', max_tenants: 1000 });
  });

  it('keeps the tenant header for the route', () => {
    expect(issues({ default_route: { endpoint: 'http://m/', headers: { 'x-scope-orgid': 'fixed' } } })).toEqual([
      'default_route.headers.x-scope-orgid: header "x-scope-orgid" is set per tenant by tenant_header',
    ]);
  });

  it('accepts a default route alone, and requires one of them', () => {
    expect(issues({ default_route: { endpoint: 'http://m/api/v1/push' } })).toEqual([]);
    expect(issues({})).toEqual([': declare at least one tenant or a default_route']);
  });

  it('names precise paths for bad tenant entries', () => {
    expect(
      issues({
        'bad id!': { endpoint: 'http://x/' },
        acme: {
          endpoint: 'http://x/',
          extra_labels: { __name__: 'x', otel_metric_overflow: 'y', ok: '' },
          metrics: { allow: ['(unclosed'] },
          limits: { max_active_series: 0 },
          backlog: { policy: 'wait' },
        },
        default_route: { endpoint: 'http://m/', tenant_header: 'Content-Type' },
      }),
    ).toEqual([
      'default_route.tenant_header: tenant_header cannot be Content-Type: the sink sets it itself',
      'acme.backlog.policy: Invalid option: expected one of "block"|"drop_oldest"',
      'acme.extra_labels.__name__: label "__name__" is reserved (names starting with "__")',
      'acme.extra_labels.otel_metric_overflow: label "otel_metric_overflow" is set by the sink on the overflow series',
      'acme.extra_labels.ok: label "ok" needs a non-empty value',
      'acme.metrics.allow.0: invalid regular expression: Unterminated group',
      'acme.limits.max_active_series: Too small: expected number to be >=1',
      'bad id!: tenant ids are 1-64 letters, digits, "_", "." or "-"',
    ]);
  });

  it('describes every field for the JSON schema', () => {
    type Fields = Record<string, { description?: string }>;
    const schema = z.toJSONSchema(tenantsConfigSchema, { io: 'input', unrepresentable: 'any' }) as unknown as {
      additionalProperties: { anyOf: [{ properties: Fields & { sink: { oneOf: { properties: Fields }[] } } }, { properties: Fields }] };
      properties: { default_route: { description?: string } };
    };
    const [explicit, flat] = schema.additionalProperties.anyOf;
    const sinkTypes = explicit.properties.sink.oneOf;
    const undocumented = [explicit.properties, flat.properties, ...sinkTypes.map((type) => type.properties)]
      .flatMap((fields) => Object.entries(fields))
      .filter(([name, f]) => !f.description && name !== 'type')
      .map(([k]) => k);
    expect(undocumented).toEqual([]);
    expect(sinkTypes).toHaveLength(2);
    expect(schema.properties.default_route.description).toMatch(/tenant_header/);
  });
});

describe('resolveEndpoint (secrets)', () => {
  const config = {
    endpoint: 'https://x/api/v1/write',
    headers: { 'X-Scope-OrgID': 'acme', 'X-Key': { value_from_env: 'ACME_KEY' } },
    auth: { bearer_token_env: 'ACME_TOKEN' },
    tls: undefined,
  };

  it('reads secrets from the environment and lists them for scrubbing', () => {
    const resolved = resolveEndpoint('acme', config, { ACME_KEY: 'key-123456', ACME_TOKEN: 'tok-abcdef' }, { 'X-Extra': 'e' });
    expect(resolved.headers).toEqual({ 'X-Scope-OrgID': 'acme', 'X-Key': 'key-123456', Authorization: 'Bearer tok-abcdef', 'X-Extra': 'e' });
    expect(scrubSecrets('echo key-123456 and tok-abcdef', resolved.secrets)).toBe('echo [redacted] and [redacted]');
  });

  it('builds basic auth', () => {
    const resolved = resolveEndpoint('acme', { ...config, headers: {}, auth: { basic: { username: 'u', password_env: 'P' } } }, { P: 'pw-secret' });
    expect(resolved.headers.Authorization).toBe(`Basic ${Buffer.from('u:pw-secret').toString('base64')}`);
  });

  it('names the missing variable, never a value', () => {
    let error: unknown;
    try {
      resolveEndpoint('acme', config, { ACME_KEY: 'key-123456' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantConfigError);
    expect((error as Error).message).toBe('tenant "acme": auth.bearer_token_env: environment variable ACME_TOKEN is not set');
    expect((error as Error).message).not.toContain('key-123456');
    expect(() => resolveEndpoint('acme', config, { ACME_KEY: 'a\r\nX-Evil: 1', ACME_TOKEN: 't' })).toThrow(
      'tenant "acme": headers.X-Key.value_from_env: environment variable ACME_KEY contains CR, LF or NUL',
    );
  });

  it('names an unreadable TLS file', () => {
    expect(() => resolveEndpoint('acme', { ...config, tls: { ca_file: '/nonexistent/ca.pem', insecure_skip_verify: false } }, { ACME_KEY: 'k', ACME_TOKEN: 't' })).toThrow(
      'tenant "acme": tls.ca_file: cannot read the file: ENOENT',
    );
  });
});
