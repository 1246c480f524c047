import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadPipelineFile, type LoadedPipeline } from '../../src/config/load.ts';
import { startPipelines, type RunningPipelines } from '../../src/runtime/process.ts';
import { queryInstant } from '../stack/prometheus-query.ts';
import { startPrometheus, TEST_TENANTS, type PrometheusHandle } from '../stack/index.ts';
import { startScrapingPrometheus, type ScrapingPrometheus } from '../support/dashboards/scraping-prometheus.ts';
import { generateGatewayLogs } from '../support/gateway-traffic.ts';
import { generateScrapes, toMessage } from '../support/gpu-rdma/traffic.ts';
import { createTopic, produce, sleep, testKafka } from '../support/kafka-io.ts';
import { generateGenAiTraffic } from '../support/pipelines/genai-traces.ts';
import { scratchDir } from '../support/scratch-dir.ts';

/**
 * Every panel query of every dashboard in pipelines/dashboards/ runs against real Prometheus
 * after real traffic and returns data: the gateway, GPU / RDMA and LLM-trace pipelines run in
 * this process on the test stack's Kafka and write to each tenant's Prometheus; a Prometheus of
 * this test's own scrapes the process's /metrics every second for the Sluice-health dashboard
 * (as docker-compose's prometheus-sluice does). Grafana's `$__rate_interval` becomes 5m.
 *
 * The file keeps to itself: its pipelines are renamed (topics, group, state, dead letters) and
 * write to receivers of its own. On the shared ones its recent `bailian_gateway_*` samples made
 * the gateway file's older samples "out of order", and on the shared topics and group its state
 * and dead letters became part of that file's exact counts.
 */
const stack = inject('stack');
const repo = fileURLToPath(new URL('../..', import.meta.url));
const DASHBOARDS = join(repo, 'pipelines/dashboards');
const PARTITIONS = 3;
/** Bounds the wait for the last windows to close and reach every Prometheus. */
const DATA_TIMEOUT_MS = 120_000;

interface Target {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

function dashboardTargets(): Target[] {
  const targets: Target[] = [];
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).sort()) {
    const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    for (const panel of dashboard.panels) for (const target of panel.targets) targets.push({ dashboard: file, panel: panel.title, expr: target.expr });
  }
  return targets;
}

const kafka = testKafka(stack.brokers, 'dashboards-test');
let running: RunningPipelines | undefined;
let scraper: ScrapingPrometheus | undefined;
const receivers = new Map<string, PrometheusHandle>();
const PREFIX = 'dashboards';

/** The shipped pipeline under its own name, topics, consumer group and dead-letter topic. */
function isolated({ config, ...rest }: LoadedPipeline): LoadedPipeline {
  return {
    ...rest,
    config: {
      ...config,
      name: `${PREFIX}-${config.name}`,
      source: { ...config.source, topics: config.source.topics.map((t) => `${PREFIX}.${t}`), group_id: `${PREFIX}-${config.source.group_id}` },
      dead_letter: { ...config.dead_letter, topic: `${PREFIX}.${config.dead_letter.topic}` },
    },
  };
}

beforeAll(async () => {
  const now = Date.now();
  // Two to three minutes of traffic ending about a minute ago: windows close by the wall clock.
  const gateway = [...generateGatewayLogs({ seed: 31, tenants: TEST_TENANTS, startMs: now - 180_000, spanMs: 120_000, count: 3_000 })];
  const scrapes = generateScrapes(Math.floor((now - 250_000) / 30_000) * 30_000);
  const traces = await generateGenAiTraffic({ seed: 37, tenants: TEST_TENANTS, startMs: now - 180_000, spanMs: 120_000, callsPerService: 60 });
  const spanMessages = [];
  for (let i = 0; i < traces.spans.length; i += 5) spanMessages.push({ partition: (i / 5) % PARTITIONS, key: `span-${i}`, value: Buffer.from(ProtobufTraceSerializer.serializeRequest(traces.spans.slice(i, i + 5))!) });

  for (const tenant of TEST_TENANTS) {
    const dir = `${stack.runDir}/dashboards/prometheus-${tenant}`;
    receivers.set(tenant, await startPrometheus({ tenant, dir, logFile: `${dir}.log` }));
  }
  const env = {
    ...process.env,
    SLUICE_KAFKA_BROKERS: stack.brokers.join(','),
    SLUICE_IDLE_TIMEOUT: '2s',
    ...Object.fromEntries(TEST_TENANTS.map((t) => [`SLUICE_TENANT_${t.toUpperCase()}_URL`, receivers.get(t)!.remoteWriteUrl])),
  };
  const loaded = (await Promise.all(['bailian-gateway', 'gpu-rdma', 'llm-traces'].map((name) => loadPipelineFile(join(repo, `pipelines/${name}.yaml`), env)))).map(isolated);
  // Every topic the three pipelines use exists before they start: a broker that has just started
  // may answer a burst of topic creations with "unknown topic" while their leaders are elected.
  for (const { config } of loaded) {
    for (const topic of config.source.topics) await ensureTopic(topic, PARTITIONS);
    await ensureTopic(`sluice.${config.name}.partials`, config.repartition.partitions);
  }
  await produce(kafka, `${PREFIX}.bailian.gateway.logs`, [[...gateway.map((r, i) => ({ partition: i % PARTITIONS, key: r.request_id, value: JSON.stringify(r) })), { partition: 0, key: 'bad', value: '{"request_id": "cut' }]]);
  await produce(kafka, `${PREFIX}.node.metrics`, [scrapes.map(toMessage).map((m) => ({ key: m.key, value: m.value, headers: m.headers }))], 20);
  await produce(kafka, `${PREFIX}.otlp_spans`, [spanMessages]);

  running = await startPipelines(loaded, { logger: pino({ level: 'warn' }), telemetryListen: '127.0.0.1:0' });
  scraper = await startScrapingPrometheus(scratchDir('dashboards'), new URL('/metrics', running.telemetryUrl));
});

afterAll(async () => {
  await scraper?.stop();
  await running?.stop();
  await Promise.all([...receivers.values()].map((r) => r.stop()));
});

/** Creates a topic unless it exists (an earlier test file may have made it), retrying a few times while the broker settles. */
async function ensureTopic(topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      if ((await admin.listTopics()).includes(topic)) return;
      try {
        await createTopic(kafka, topic, partitions);
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await sleep(2_000);
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** Does the query return at least one series from any of these Prometheus instances, now? */
async function returnsData(expr: string, urls: readonly string[]): Promise<boolean> {
  const promql = expr.replaceAll('$__rate_interval', '5m');
  for (const url of urls) if ((await queryInstant(url, promql)).length > 0) return true;
  return false;
}

describe('Grafana dashboards in pipelines/dashboards/', () => {
  it('has the four dashboards, each with panels and a query per panel', () => {
    const targets = dashboardTargets();
    expect(new Set(targets.map((t) => t.dashboard))).toEqual(new Set(['gpu-rdma.json', 'llm-gateway.json', 'llm-traces.json', 'sluice-health.json']));
    expect(targets.length).toBeGreaterThanOrEqual(40);
  });

  it('every panel query returns data from the test stack after traffic', { timeout: DATA_TIMEOUT_MS + 60_000 }, async () => {
    const tenants = TEST_TENANTS.map((t) => receivers.get(t)!.url);
    let empty = dashboardTargets();
    const deadline = Date.now() + DATA_TIMEOUT_MS;
    for (let round = 0; empty.length > 0 && Date.now() < deadline && round < 60; round++) {
      const still: Target[] = [];
      for (const target of empty) {
        const urls = target.dashboard === 'sluice-health.json' ? [scraper!.url] : tenants;
        if (!(await returnsData(target.expr, urls))) still.push(target);
      }
      empty = still;
      if (empty.length > 0) await sleep(2_000);
    }
    expect(empty.map((t) => `${t.dashboard}: ${t.panel}: ${t.expr}`)).toEqual([]);
  });
});
