import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePipeline } from '../../../src/config/load.ts';
import { startTelemetryServer, type TelemetryServer } from '../../../src/telemetry/http-server.ts';
import { SluiceMetrics } from '../../../src/telemetry/metrics.ts';
import { TapHub, type TapPoint } from '../../../src/telemetry/tap/hub.ts';
import type { StatusSnapshot } from '../../../src/telemetry/status/snapshot.ts';

const TEXT = readFileSync(new URL('../../fixtures/pipelines/shutdown.yaml', import.meta.url), 'utf8');
const env = { SD_PIPELINE: 'p1', SD_TOPIC: 'orders.in', SLUICE_KAFKA_BROKERS: 'b:9092', SLUICE_REDIS_URL: 'redis://r', SD_ACME_URL: 'http://acme/w?k=s3cr3t-value', SD_UNREACHABLE_URL: 'http://u/w' };

let server: TelemetryServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start() {
  const flags: Record<TapPoint, boolean> = { decode: false, transform: false, partials: false, samples: false, 'dead-letters': false };
  const hub = new TapHub(flags);
  const metrics = new SluiceMetrics();
  server = await startTelemetryServer('127.0.0.1:0', metrics.registry, () => true, { pipelines: [parsePipeline(TEXT, 'p.yaml', env)], taps: hub });
  return { url: server.url, hub, flags, metrics };
}

describe('operator endpoints of the telemetry server', () => {
  it('serves the status page with a policy that loads nothing, its refresh period, and the same data as JSON', async () => {
    const { url, metrics } = await start();
    metrics.recordsIn.inc({ pipeline: 'p1', topic: 'orders.in' }, 3);
    const page = await fetch(`${url}/status`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('<meta http-equiv="refresh" content="2">');
    expect(await (await fetch(`${url}/status?refresh=0`)).text()).not.toContain('http-equiv="refresh"');
    const json = (await (await fetch(`${url}/status.json`)).json()) as StatusSnapshot;
    expect(json.pipelines.map((p) => [p.name, p.stage1.records_in_total])).toEqual([['p1', 3]]);
    expect(JSON.stringify(json)).not.toContain('s3cr3t-value');
    expect((await fetch(`${url}/status`, { method: 'POST' })).status).toBe(405);
  });

  it('streams taps as NDJSON up to the limit, with environment values redacted, and drops the flag when the client goes', async () => {
    const { url, hub, flags } = await start();
    const response = await fetch(`${url}/tap?pipeline=p1&at=samples&limit=2`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(flags.samples).toBe(true);
    for (let i = 0; i < 3; i++) hub.offer('samples', 'p1', 'acme', i, (n) => ({ n, endpoint: 'http://acme/w?k=s3cr3t-value' }));
    const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { pipeline: 'p1', at: 'samples', skipped: 0, event: { n: 0, endpoint: '${SD_ACME_URL}' } },
      { pipeline: 'p1', at: 'samples', skipped: 0, event: { n: 1, endpoint: '${SD_ACME_URL}' } },
    ]);
    expect(flags.samples).toBe(false);

    const aborted = new AbortController();
    const open = await fetch(`${url}/tap?pipeline=p1&at=decode`, { signal: aborted.signal });
    expect(flags.decode).toBe(true);
    aborted.abort();
    await open.body?.cancel().catch(() => {});
    for (let i = 0; i < 50 && flags.decode; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(flags.decode).toBe(false);
  });
});
