import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StatusSnapshot } from '../../src/telemetry/status/snapshot.ts';
import { createTopic, eventually, sleep, testKafka } from '../support/kafka-io.ts';
import { SluiceProcess } from '../support/sluice-process.ts';

/**
 * Issue 13 item 4 against `sluice run` on the real stack (Kafka, Redis, Prometheus): a tenant added
 * by a file edit starts its delivery while the running tenant keeps every window; an invalid edit
 * and an incompatible one are refused while delivery goes on; a tenant of the Redis registry
 * appears and disappears; a new metric (stages rebuilt) keeps the counters' cumulative values.
 */

const stack = inject('stack');
const pipeline = `rl-${randomBytes(3).toString('hex')}`;
const topic = `${pipeline}.in`;
const dir = join(stack.runDir, 'live-reload', pipeline);
const file = join(dir, 'pipeline.yaml');
const prefix = `sluice:tenants:${pipeline}:`;
const WINDOW_S = 2;
const TICK_MS = 250;
/** The producer stops by itself after this many ticks, should a test hang (10 minutes). */
const MAX_TICKS = 2_400;

const EXTRA_METRIC = `
  - name: rl_tokens_total
    type: counter
    value: tokens
    labels: { model: model }
`;

/** The pipeline file: `tenants` are the entries under `tenants:`, `metrics` more metrics after the first. */
function pipelineYaml(tenants: readonly ('acme' | 'globex')[], options: { metrics?: string; window?: string } = {}): string {
  const entries = tenants.map((t) => `  ${t}: { endpoint: "${stack.prometheus[t]!.remoteWriteUrl}", extra_labels: { run: "${pipeline}" } }`).join('\n');
  return `name: ${pipeline}
source: { type: kafka, brokers: "${stack.brokers.join(',')}", topics: ["${topic}"], group_id: ${pipeline}, start_from: earliest }
decode: { codec: json }
event_time: { field: ts, format: unix_ms }
tenant: { field: tenant }
window: { type: tumbling, size: ${options.window ?? `${WINDOW_S}s`}, max_out_of_orderness: 1s, allowed_lateness: 1s, idle_timeout: 2s }
state: { backend: redis, redis_url: "${stack.redisUrl}", checkpoint_interval: 1s }
repartition: { partitions: 2, flush_interval: 500ms }
metrics:
  - name: rl_requests_total
    type: counter
    labels: { model: model }
${options.metrics ?? ''}dead_letter: { topic: ${pipeline}.dlq }
tenants:
${entries}
tenant_registry: { redis_url: "${stack.redisUrl}", key_prefix: "${prefix}", poll_interval: 1s }
telemetry: { listen: "127.0.0.1:0" }
`;
}

/** Replaces the file as editors do (write a temporary file, rename it over): the watch must see it. */
function writePipeline(text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

let kafka: Kafka;
let producer: Producer;
let redis: Redis;
let sluice: SluiceProcess;
let producing = true;
let traffic: Promise<void> = Promise.resolve();

/** Each tick: records for acme, globex and initech, two models. */
async function produceTraffic(): Promise<void> {
  for (let tick = 0; producing && tick < MAX_TICKS; tick++) {
    const ts = Date.now();
    const messages = ['acme', 'globex', 'initech'].flatMap((tenant) =>
      ['m0', 'm1'].map((model) => ({ key: `${tick}-${tenant}-${model}`, value: JSON.stringify({ ts, tenant, model, tokens: 3 }) })),
    );
    await producer.send({ topic, messages }).catch(() => {});
    await sleep(TICK_MS);
  }
}

/** Raw samples [unix s, value] of `selector` over the last `rangeS` seconds in a tenant's Prometheus, by model. */
async function samples(tenant: string, selector: string, rangeS: number): Promise<Map<string, [number, number][]>> {
  const url = `${stack.prometheus[tenant]!.url}/api/v1/query?query=${encodeURIComponent(`${selector}[${rangeS}s]`)}`;
  const body = (await (await fetch(url)).json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
  return new Map(body.data.result.map((r) => [r.metric.model ?? '', r.values.map(([t, v]) => [t, Number(v)] as [number, number])]));
}

const requests = `rl_requests_total{run="${pipeline}"}`;

async function latest(tenant: string): Promise<[number, number] | undefined> {
  return (await samples(tenant, `${requests.slice(0, -1)},model="m0"}`, 600)).get('m0')?.at(-1);
}

async function reload(): Promise<{ status: number; body: { ok: boolean; result: string; reasons: string[] } }> {
  const response = await fetch(`${sluice.telemetryUrl}/-/reload`, { method: 'POST' });
  return { status: response.status, body: (await response.json()) as { ok: boolean; result: string; reasons: string[] } };
}

async function status(): Promise<StatusSnapshot> {
  return (await (await fetch(`${sluice.telemetryUrl}/status.json`)).json()) as StatusSnapshot;
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writePipeline(pipelineYaml(['acme']));
  redis = new Redis(stack.redisUrl);
  kafka = testKafka(stack.brokers, `live-reload-${pipeline}`);
  await createTopic(kafka, topic, 2);
  producer = kafka.producer();
  await producer.connect();
  sluice = SluiceProcess.spawn(file, {}, join(dir, 'sluice.log'));
  await sluice.ready(120_000);
  traffic = produceTraffic();
  await eventually(() => latest('acme'), (s) => s !== undefined && s[1] > 0, 90_000, 500);
});

afterAll(async () => {
  producing = false;
  await traffic;
  await producer?.disconnect();
  await redis?.quit();
  if (sluice) {
    const { status: exit } = await sluice.stopWith('SIGTERM', 30_000);
    expect(exit, sluice.tail()).toEqual({ code: 0, signal: null });
  }
});

describe('live reload', () => {
  it('a tenant added to the file starts its delivery, without a restart and without a gap for the running tenant', async () => {
    const hashBefore = (await status()).config_hash;
    const pid = sluice.pid;
    const reloadsBefore = await sluice.metric('sluice_config_reloads_total', { result: 'success' });
    const addedAt = Date.now() / 1000;
    writePipeline(pipelineYaml(['acme', 'globex']));
    await sluice.metricUntil('sluice_config_reloads_total', { result: 'success' }, (n) => n > reloadsBefore, 60_000);
    const globex = await eventually(() => latest('globex'), (s) => s !== undefined && s[1] > 0, 60_000, 500);
    expect(globex![0]).toBeGreaterThan(addedAt - WINDOW_S);
    // acme kept writing every window across the reload: consecutive samples one window apart.
    await eventually(() => latest('acme'), (s) => s !== undefined && s[0] > addedAt + 4 * WINDOW_S, 60_000, 500);
    const acme = (await samples('acme', requests, 600)).get('m0')!;
    const around = acme.filter(([t]) => t > addedAt - 6 * WINDOW_S);
    expect(around.length).toBeGreaterThan(6);
    for (let i = 1; i < around.length; i++) expect(around[i]![0] - around[i - 1]![0]).toBe(WINDOW_S);
    expect(sluice.pid).toBe(pid);
    const after = await status();
    expect(after.config_hash).not.toBe(hashBefore);
    expect(after.pipelines[0]!.tenants).toEqual(['acme', 'globex']);
    expect(await sluice.metric('sluice_config_last_reload_successful')).toBe(1);
  });

  it('an invalid edit is refused with file:line:col and the old config keeps running', async () => {
    const failuresBefore = await sluice.metric('sluice_config_reloads_total', { result: 'failure' });
    const hash = (await status()).config_hash;
    writePipeline(pipelineYaml(['acme', 'globex']).replace(`size: ${WINDOW_S}s`, 'size: soon'));
    await sluice.metricUntil('sluice_config_reloads_total', { result: 'failure' }, (n) => n > failuresBefore, 60_000);
    expect(await sluice.metric('sluice_config_last_reload_successful')).toBe(0);
    const answer = await reload();
    expect(answer.status).toBe(400);
    expect(answer.body.result).toBe('invalid');
    expect(answer.body.reasons.join('\n')).toMatch(/pipeline\.yaml:6:\d+: window\.size: /);
    expect(sluice.log()).toContain('config reload refused: the config does not validate; the running config stays');
    // Delivery goes on for both tenants on the running config.
    const [acmeBefore, globexBefore] = [await latest('acme'), await latest('globex')];
    await eventually(async () => [await latest('acme'), await latest('globex')] as const, ([a, g]) => a![0] > acmeBefore![0] + WINDOW_S && g![0] > globexBefore![0] + WINDOW_S, 60_000, 500);
    expect((await status()).config_hash).toBe(hash);
  });

  it('an incompatible change (window size) is refused with the reason, never applied half-way', async () => {
    // With a compatible change (a tenant removed) in the same edit: neither is applied.
    writePipeline(pipelineYaml(['acme'], { window: '4s' }));
    const answer = await reload();
    expect(answer.status).toBe(400);
    expect(answer.body.result).toBe('refused');
    expect(answer.body.reasons.join('\n')).toContain('window.size: open windows and fired-through times are laid out by the window');
    expect((await status()).pipelines[0]!.tenants).toEqual(['acme', 'globex']);
    writePipeline(pipelineYaml(['acme', 'globex']));
    expect((await reload()).body.ok).toBe(true);
    expect(await sluice.metric('sluice_config_last_reload_successful')).toBe(1);
  });

  it('a tenant of the Redis registry appears, and disappears', async () => {
    await redis.hset(`${prefix}initech`, { endpoint: stack.prometheus.initech!.remoteWriteUrl, 'label.run': pipeline });
    await eventually(status, (s) => s.pipelines[0]!.tenants.includes('initech'), 60_000, 500);
    const initech = await eventually(() => latest('initech'), (s) => s !== undefined && s[1] > 0, 60_000, 500);
    expect(initech![1]).toBeGreaterThan(0);

    await redis.del(`${prefix}initech`);
    await eventually(status, (s) => !s.pipelines[0]!.tenants.includes('initech'), 60_000, 500);
    // Its series are still open in stage 2: what they emit now is dropped and counted, not sent.
    await sluice.metricUntil('sluice_removed_tenant_points_dropped_total', { tenant: 'initech' }, (n) => n > 0, 60_000);
    const stopped = await latest('initech');
    await eventually(() => latest('acme'), (s) => s![0] > stopped![0] + 4 * WINDOW_S, 60_000, 500);
    expect((await latest('initech'))![0]).toBeLessThanOrEqual(stopped![0] + 2 * WINDOW_S);
  });

  it('a new metric rebuilds the stages and keeps state: the counters continue from their cumulative values', async () => {
    const before = (await latest('acme'))!;
    const rebuiltAt = Date.now() / 1000;
    writePipeline(pipelineYaml(['acme', 'globex'], { metrics: EXTRA_METRIC }));
    const answer = await eventually(reload, (a) => a.body.ok, 60_000, 1_000);
    expect(answer.status).toBe(200);
    await eventually(async () => (await samples('acme', `rl_tokens_total{run="${pipeline}"}`, 120)).size, (n) => n > 0, 90_000, 500);
    const after = await eventually(() => latest('acme'), (s) => s![0] > rebuiltAt + 2 * WINDOW_S, 60_000, 500);
    expect(after![1]).toBeGreaterThan(before[1]);
    // Never a reset over the whole run: each sample at least the one before.
    const series = (await samples('acme', requests, 600)).get('m0')!;
    for (let i = 1; i < series.length; i++) expect(series[i]![1]).toBeGreaterThanOrEqual(series[i - 1]![1]);
    expect(series[0]![1]).toBeLessThan(after![1]);
  });
});
