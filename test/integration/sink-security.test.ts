import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Label, Sample } from '../../src/core/types.ts';
import { createSinkMetrics, RemoteWriteSink } from '../../src/sinks/remote-write/index.ts';
import type { WriteOutcome } from '../../src/sinks/remote-write/index.ts';
import { remoteWriteTenantsSchema as tenantsConfigSchema } from '../../src/sinks/registry.ts';
import { FrontProxy } from '../support/receivers/proxy.ts';
import { eventually, query } from '../support/receivers/query.ts';

/**
 * Label safety, tenant isolation of hostile label values, secrets that never
 * leak (logs, errors, /metrics), and TLS — against the stack's real
 * Prometheus per tenant.
 */
const stack = inject('stack');
const RUN = `sec${Date.now().toString(36)}`;
const TOKEN = `tok-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
const WRONG_TOKEN = `wrong-${Math.random().toString(36).slice(2)}`;

let dir: string;
let acmeFront: FrontProxy;
let tlsFront: FrontProxy;
let cert: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-sink-security-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-subj', '/CN=sluice-test-receiver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  cert = join(dir, 'cert.pem');
  // acme's receiver requires the bearer token and, misbehaving, echoes what it got on 401.
  acmeFront = await FrontProxy.start({ upstreams: { '': stack.prometheus.acme!.url }, bearerToken: TOKEN, echoAuthorization: true });
  tlsFront = await FrontProxy.start({
    upstreams: { '': stack.prometheus.initech!.url },
    tls: { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(cert) },
  });
});

afterAll(async () => {
  await Promise.allSettled([acmeFront?.stop(), tlsFront?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function captureLogs() {
  const raw: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) });
  return { logger, raw };
}

const L = (pairs: Record<string, string>): Label[] =>
  Object.entries(pairs)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

describe('remote-write sink: label safety and tenant isolation of hostile values', () => {
  it("keeps every hostile label value inside its own tenant's receiver, exactly as written", async () => {
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({
        acme: { endpoint: acmeFront.remoteWriteUrl, auth: { bearer_token_env: 'ACME_TOKEN' }, extra_labels: { tenant: 'acme' }, batch: { max_delay: '50ms' } },
        globex: { endpoint: stack.prometheus.globex!.remoteWriteUrl, extra_labels: { tenant: 'globex' } },
        initech: { endpoint: stack.prometheus.initech!.remoteWriteUrl },
      }),
      { logger: pino({ level: 'silent' }), env: { ACME_TOKEN: TOKEN } },
    );
    const hostile = [
      'q"}\nevil{tenant="globex"',
      '\\"} 1\nsec_injected{tenant="initech"} 2',
      'tab\there, cr\r, nul-free, quote " and backslash \\',
      '}{,=~!',
      'ünïcødé 🚀 中文',
      'x'.repeat(2_000), // within max_label_value_length (2048)
    ];
    const now = Date.now();
    const samples: Sample[] = hostile.map((value, i) => ({
      labels: L({ __name__: 'sec_probe', run: RUN, i: String(i), value, tenant: 'globex' }), // data tries to claim globex
      value: i,
      timestampMs: now,
    }));
    const tooLong = { labels: L({ __name__: 'sec_probe', run: RUN, i: 'long', value: 'y'.repeat(5_000) }), value: 9, timestampMs: now };
    let outcome: WriteOutcome | undefined;
    sink.write('acme', [...samples, tooLong], (o) => (outcome = o));
    await sink.flush();
    await Promise.resolve();
    expect(outcome).toEqual({ delivered: hostile.length, failed: 1, filtered: 0 }); // the 5000-byte value is refused, counted

    const stored = await eventually(() => query(stack.prometheus.acme!.url, `sec_probe{run="${RUN}"}`), (r) => r.length === hostile.length);
    const byIndex = new Map(stored.map((s) => [s.metric.i, s.metric]));
    hostile.forEach((value, i) => {
      // Exactly the labels written, the tenant label forced to the tenant's own.
      expect(byIndex.get(String(i))).toEqual({ __name__: 'sec_probe', run: RUN, i: String(i), value, tenant: 'acme' });
    });
    // Nothing of this run reached another tenant, and no injected series exists anywhere.
    for (const other of ['globex', 'initech'] as const) {
      expect(await query(stack.prometheus[other]!.url, `count({run="${RUN}"})`)).toEqual([]);
      expect(await query(stack.prometheus[other]!.url, `count(sec_injected)`)).toEqual([]);
    }
    expect(await query(stack.prometheus.acme!.url, `count(sec_injected)`)).toEqual([]);
    await sink.close();
  });
});

describe('remote-write sink: secrets', () => {
  it('never shows a bearer token from the environment in logs, errors or /metrics', async () => {
    const logs = captureLogs();
    const registry = new Registry();
    const env = { ACME_TOKEN: TOKEN, GLOBEX_TOKEN: WRONG_TOKEN };
    const errors: string[] = [];
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({
        acme: { endpoint: acmeFront.remoteWriteUrl, auth: { bearer_token_env: 'ACME_TOKEN' }, batch: { max_delay: '10ms' } },
        // globex sends its (wrong) token to acme's front: 401, and the front echoes the token back.
        globex: { endpoint: acmeFront.remoteWriteUrl, auth: { bearer_token_env: 'GLOBEX_TOKEN' }, batch: { max_delay: '10ms' } },
      }),
      { logger: logs.logger, events: createSinkMetrics(registry), env },
    );
    const sample = (name: string): Sample[] => [{ labels: L({ __name__: name, run: RUN }), value: 1, timestampMs: Date.now() }];
    const outcomes: WriteOutcome[] = [];
    sink.write('acme', sample('sec_secret_ok'), (o) => outcomes.push(o));
    sink.write('globex', sample('sec_secret_denied'), (o) => outcomes.push(o));
    await sink.flush();
    await sink.close();
    await Promise.resolve();
    expect(outcomes.map((o) => [o.delivered, o.failed]).sort()).toEqual([[0, 1], [1, 0]]);

    // A missing secret fails construction, naming the variable only.
    try {
      new RemoteWriteSink(tenantsConfigSchema.parse({ acme: { endpoint: acmeFront.remoteWriteUrl, auth: { bearer_token_env: 'NOPE_TOKEN' } } }), {
        logger: logs.logger,
        env,
      });
    } catch (error) {
      errors.push(String(error), JSON.stringify(error), (error as Error).stack ?? '');
    }
    expect(errors[0]).toBe('TenantConfigError: tenant "acme": auth.bearer_token_env: environment variable NOPE_TOKEN is not set');

    const everything = [...logs.raw, await registry.metrics(), ...errors].join('\n');
    expect(logs.raw.join('')).toContain('unauthorized: got Bearer [redacted]'); // the 401 echo was logged, scrubbed
    expect(everything).toContain('http_401');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(WRONG_TOKEN);
    expect(everything).not.toMatch(/authorization|bearer tok-/i);
  });
});

describe('remote-write sink: TLS', () => {
  it('delivers over HTTPS with the tenant CA, refuses an unverified certificate, and can skip verification', async () => {
    const logs = captureLogs();
    const base = { endpoint: tlsFront.remoteWriteUrl, batch: { max_delay: '10ms' }, retry: { max_attempts: 2, initial_backoff: '10ms', max_backoff: '10ms' } };
    const sink = new RemoteWriteSink(
      tenantsConfigSchema.parse({
        trusted: { ...base, tls: { ca_file: cert } },
        untrusted: { ...base },
        skipping: { ...base, tls: { insecure_skip_verify: true } },
      }),
      { logger: logs.logger },
    );
    const outcomes = new Map<string, WriteOutcome>();
    for (const tenant of ['trusted', 'untrusted', 'skipping']) {
      sink.write(tenant, [{ labels: L({ __name__: 'sec_tls', run: RUN, via: tenant }), value: 1, timestampMs: Date.now() }], (o) => outcomes.set(tenant, o));
    }
    await sink.flush();
    await sink.close();
    await Promise.resolve();
    expect(outcomes.get('trusted')).toEqual({ delivered: 1, failed: 0, filtered: 0 });
    expect(outcomes.get('skipping')).toEqual({ delivered: 1, failed: 0, filtered: 0 });
    expect(outcomes.get('untrusted')).toEqual({ delivered: 0, failed: 1, filtered: 0 });
    expect(logs.raw.join('\n')).toMatch(/self[- ]signed certificate/i);
    const stored = await eventually(() => query(stack.prometheus.initech!.url, `sec_tls{run="${RUN}"}`), (r) => r.length === 2);
    expect(stored.map((s) => s.metric.via).sort()).toEqual(['skipping', 'trusted']);
  });
});
