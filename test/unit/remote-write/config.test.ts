import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { remoteWriteConfigSchema } from '../../../src/sinks/remote-write/config.ts';

function issues(input: unknown): string[] {
  const result = remoteWriteConfigSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('remoteWriteConfigSchema', () => {
  it('fills every default and parses durations to ms', () => {
    expect(remoteWriteConfigSchema.parse({ endpoint: 'http://127.0.0.1:9090/api/v1/write' })).toEqual({
      endpoint: 'http://127.0.0.1:9090/api/v1/write',
      headers: {},
      protocol: 'v1',
      histograms: 'classic',
      timeout: 10_000,
      shards: 4,
      batch: { max_samples: 2000, max_bytes: 4_194_304, max_delay: 1_000 },
      backlog: { max_samples: 500_000, policy: 'block' },
      retry: { initial_backoff: 100, max_backoff: 10_000, max_attempts: 0 },
    });
  });

  it('parses a full config', () => {
    expect(
      remoteWriteConfigSchema.parse({
        endpoint: 'https://prom.example/api/v1/write',
        headers: { 'X-Scope-OrgID': 'acme', 'X-Key': { value_from_env: 'ACME_KEY' } },
        auth: { basic: { username: 'sluice', password_env: 'ACME_PASSWORD' } },
        tls: { ca_file: '/etc/ca.pem', server_name: 'prom.example' },
        timeout: '30s',
        shards: 2,
        batch: { max_samples: 500, max_bytes: 65_536, max_delay: '250ms' },
        backlog: { max_samples: 10_000, policy: 'drop_oldest' },
        retry: { initial_backoff: '1s', max_backoff: '1m', max_attempts: 1 },
      }),
    ).toEqual({
      endpoint: 'https://prom.example/api/v1/write',
      protocol: 'v1',
      histograms: 'classic',
      headers: { 'X-Scope-OrgID': 'acme', 'X-Key': { value_from_env: 'ACME_KEY' } },
      auth: { basic: { username: 'sluice', password_env: 'ACME_PASSWORD' } },
      tls: { ca_file: '/etc/ca.pem', server_name: 'prom.example', insecure_skip_verify: false },
      timeout: 30_000,
      shards: 2,
      batch: { max_samples: 500, max_bytes: 65_536, max_delay: 250 },
      backlog: { max_samples: 10_000, policy: 'drop_oldest' },
      retry: { initial_backoff: 1_000, max_backoff: 60_000, max_attempts: 1 },
    });
  });

  it('names the header that tries to override a protocol header, in any case', () => {
    expect(
      issues({
        endpoint: 'http://x/api/v1/write',
        headers: { 'content-encoding': 'gzip', 'User-Agent': 'me', 'X-Prometheus-Remote-Write-Version': '2.0.0', 'CONTENT-TYPE': 'x' },
      }),
    ).toEqual([
      'headers.content-encoding: header "content-encoding" cannot be set: the remote-write sink sets Content-Encoding itself',
      'headers.User-Agent: header "User-Agent" cannot be set: the remote-write sink sets User-Agent itself',
      'headers.X-Prometheus-Remote-Write-Version: header "X-Prometheus-Remote-Write-Version" cannot be set: the remote-write sink sets X-Prometheus-Remote-Write-Version itself',
      'headers.CONTENT-TYPE: header "CONTENT-TYPE" cannot be set: the remote-write sink sets Content-Type itself',
    ]);
  });

  it('rejects header names fetch would refuse, case-duplicates and CR/LF values', () => {
    expect(
      issues({ endpoint: 'http://x/', headers: { 'bad name': 'a', 'X-A': 'b', 'x-a': 'c', 'X-B': 'evil\r\nX-C: 1' } }),
    ).toEqual([
      "headers.bad name: not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)",
      'headers.x-a: header "x-a" is given twice (also as "X-A"); header names are case-insensitive',
      'headers.X-B: header "X-B" has a value containing CR, LF or NUL',
    ]);
  });

  it('requires an http(s) endpoint without embedded credentials', () => {
    expect(issues({})).toEqual(['endpoint: endpoint must be an absolute http:// or https:// URL']);
    expect(issues({ endpoint: 'ftp://x/y' })).toEqual(['endpoint: endpoint must be an absolute http:// or https:// URL']);
    expect(issues({ endpoint: '/api/v1/write' })).toEqual(['endpoint: endpoint must be an absolute http:// or https:// URL']);
    expect(issues({ endpoint: 'https://user:pw@x/api/v1/write' })).toEqual([
      'endpoint: endpoint must not embed credentials (user:password@); use auth: { basic: ... } or auth: { bearer_token_env: ... }',
    ]);
  });

  it('rejects unknown keys, zero timeouts, inverted backoff and non-positive counts', () => {
    expect(
      issues({
        endpoint: 'http://x/',
        timeout: '0s',
        batch: { max_samples: 0, size: 1 },
        retry: { max_attempts: -1 },
        extra: true,
      }),
    ).toEqual([
      'timeout: timeout must be greater than zero',
      'batch.max_samples: Too small: expected number to be >=1',
      'batch: Unrecognized key: "size"',
      'retry.max_attempts: Too small: expected number to be >=0',
      ': Unrecognized key: "extra"',
    ]);
    expect(issues({ endpoint: 'http://x/', retry: { initial_backoff: '5s', max_backoff: '1s' } })).toEqual([
      'retry.max_backoff: retry.max_backoff must not be smaller than retry.initial_backoff',
    ]);
  });

  it('checks auth, tls and env-var names across fields', () => {
    expect(
      issues({
        endpoint: 'http://x/',
        headers: { authorization: 'Bearer x', 'X-A': { value_from_env: 'not a name' } },
        auth: { bearer_token_env: 'TOKEN', basic: { username: 'u', password_env: 'P' } },
        tls: { cert_file: '/c.pem' },
      }),
    ).toEqual([
      'headers.X-A.value_from_env: expected an environment variable name such as ACME_REMOTE_WRITE_TOKEN',
      'auth: auth takes one of bearer_token_env or basic, not both',
      'tls: tls.cert_file and tls.key_file go together',
      'tls: tls is set but endpoint is not an https:// URL',
      'headers.authorization: header "authorization" conflicts with auth; set the credentials in one place',
    ]);
    expect(
      issues({ endpoint: 'http://x/', headers: { Authorization: 'Bearer x' }, auth: { bearer_token_env: 'T' }, tls: {} }),
    ).toEqual([
      'tls: tls is set but endpoint is not an https:// URL',
      'headers.Authorization: header "Authorization" conflicts with auth; set the credentials in one place',
    ]);
  });

  it('describes every field in the JSON schema, with YAML-style defaults', () => {
    const schema = z.toJSONSchema(remoteWriteConfigSchema, { io: 'input' }) as {
      properties: Record<string, { description?: string; default?: unknown; properties?: Record<string, { description?: string; default?: unknown }> }>;
    };
    const undocumented: string[] = [];
    for (const [key, field] of Object.entries(schema.properties)) {
      if (!field.description) undocumented.push(key);
      for (const [sub, subField] of Object.entries(field.properties ?? {})) if (!subField.description) undocumented.push(`${key}.${sub}`);
    }
    expect(undocumented).toEqual([]);
    expect(schema.properties.timeout!.default).toBe('10s');
    expect(schema.properties.retry!.properties!.max_backoff!.default).toBe('10s');
  });
});
