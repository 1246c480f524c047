import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../../src/config/load.ts';
import { createSinkMetrics } from '../../../src/sinks/remote-write/index.ts';
import { SluiceMetrics } from '../../../src/telemetry/metrics.ts';
import { StatusBoard } from '../../../src/telemetry/status/board.ts';
import { escapeHtml, renderStatusPage } from '../../../src/telemetry/status/page.ts';
import { renderTopLines } from '../../../src/cli/top-screen.ts';

const TEXT = readFileSync(new URL('../../fixtures/pipelines/shutdown.yaml', import.meta.url), 'utf8');
const HOSTILE = '<img src=x onerror=alert(1)>"&\'';
const env = (acmeUrl: string) => ({ SD_PIPELINE: 'p1', SD_TOPIC: 'orders.in', SLUICE_KAFKA_BROKERS: 'b:9092', SLUICE_REDIS_URL: 'redis://r', SD_ACME_URL: acmeUrl, SD_UNREACHABLE_URL: 'http://u/w' });

function setup() {
  let now = Date.parse('2026-11-30T12:00:00Z');
  const metrics = new SluiceMetrics();
  const sink = createSinkMetrics(metrics.registry);
  const loaded = parsePipeline(TEXT, 'p.yaml', env('http://acme/w?token-abcdef'));
  const board = new StatusBoard(metrics.registry, [loaded], () => now);
  return { metrics, sink, board, advance: (ms: number) => (now += ms) };
}

describe('StatusBoard', () => {
  it('turns the registry into per-stage rates, lag, watermark, dead letters by reason and per-tenant delivery', async () => {
    const { metrics, sink, board, advance } = setup();
    metrics.recordsIn.inc({ pipeline: 'p1', topic: 'orders.in' }, 100);
    await board.refresh();
    advance(5_000);
    metrics.recordsIn.inc({ pipeline: 'p1', topic: 'orders.in' }, 500);
    metrics.deadLetters('p1', { records: new Map([['malformed', 10], ['late', 5]]), messages: new Map([['malformed', 10]]), unwritable: 0 });
    metrics.consumerLag.set({ pipeline: 'p1', topic: 'orders.in', partition: '0' }, 7);
    metrics.consumerLag.set({ pipeline: 'p1', topic: 'orders.in', partition: '1' }, 3);
    metrics.watermarkDelay.set({ pipeline: 'p1' }, 4);
    metrics.activeSeries.set({ pipeline: 'p1' }, 42);
    sink.sent('acme', 250);
    sink.queued('acme', 12);
    sink.failed('acme', 3, 'http_500');
    sink.received(HOSTILE, 1);
    const status = await board.refresh();
    const [p] = status.pipelines;
    expect(p).toMatchObject({
      name: 'p1',
      sources: ['orders.in'],
      partials_topic: 'sluice.p1.partials',
      tenants: ['acme', 'unreachable'],
      stage1: { records_in_total: 600, records_in_per_s: 100, dead_letters_per_s: 3, consumer_lag: 10 },
      stage2: { watermark: '2026-11-30T12:00:01.000Z', watermark_delay_s: 4, active_series: 42 },
    });
    expect(p!.dead_letters).toEqual([
      { reason: 'malformed', total: 10, per_s: 2, recent: 10 },
      { reason: 'late', total: 5, per_s: 1, recent: 5 },
    ]);
    expect(status.tenants.map((t) => t.tenant)).toEqual([HOSTILE, 'acme', 'unreachable'].sort());
    expect(status.tenants.find((t) => t.tenant === 'acme')).toMatchObject({ samples_sent_per_s: 50, backlog: 12, failed_total: 3, last_error: { reason: 'http_500', at: '2026-11-30T12:00:05.000Z' }, pipelines: ['p1'] });
  });

  it('hashes the config with environment values as the file wrote them: a rotated secret is no config change', async () => {
    const hash = (url: string) => new StatusBoard(new SluiceMetrics().registry, [parsePipeline(TEXT, 'p.yaml', env(url))]).snapshot();
    const [a, b] = await Promise.all([hash('http://acme/w?secret-one'), hash('http://acme/w?secret-two')]);
    expect(a.config_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(a.config_hash).toBe(b.config_hash);
    const edited = await new StatusBoard(new SluiceMetrics().registry, [parsePipeline(TEXT.replace('size: 10s', 'size: 20s'), 'p.yaml', env('http://acme/w'))]).snapshot();
    expect(edited.config_hash).not.toBe(a.config_hash);
  });
});

describe('status page', () => {
  it('escapes every value from config and data, and loads nothing from outside', async () => {
    const { metrics, sink, board } = setup();
    sink.received(HOSTILE, 1);
    sink.failed(HOSTILE, 1, 'http_400');
    metrics.deadLetters('p1', { records: new Map([['unroutable', 1]]), messages: new Map([['unroutable', 1]]), unwritable: 0 });
    await board.refresh();
    const html = renderStatusPage(await board.refresh());
    expect(html).not.toContain('<img');
    expect(html).toContain(escapeHtml(HOSTILE));
    expect(escapeHtml(HOSTILE)).toBe('&lt;img src=x onerror=alert(1)&gt;&quot;&amp;&#39;');
    expect(html).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(html).not.toMatch(/<script|<[^>]*\s(src|href)=|@import|url\(/i);
    expect(html).toContain('sluice.p1.partials');
    expect(html).toContain('unroutable');
    expect(html).not.toContain('token-abcdef');
  });
});

describe('sluice top screen', () => {
  it('fits 80 columns whatever the ids, and keeps control characters away from the terminal', async () => {
    const { metrics, sink, board, advance } = setup();
    await board.refresh();
    advance(2_000);
    metrics.recordsIn.inc({ pipeline: 'p1', topic: 'orders.in' }, 2_468);
    metrics.deadLetters('p1', { records: new Map([['malformed', 4]]), messages: new Map([['malformed', 4]]), unwritable: 0 });
    sink.sent('acme', 300);
    sink.received(`evil\x1b[2J${'x'.repeat(200)}`, 1);
    const { lines } = renderTopLines(await board.refresh(), 'http://127.0.0.1:9464', 80);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(lines.join('\n')).not.toContain('\x1b');
    const row = lines.find((l) => l.startsWith('p1 '));
    expect(row?.split(/\s+/).slice(0, 3)).toEqual(['p1', '1.2k', '2']);
    expect(lines).toContain('  dead letters/s: malformed 2');
    expect(lines.find((l) => l.startsWith('acme'))?.split(/\s+/).slice(0, 2)).toEqual(['acme', '150']);
  });
});
