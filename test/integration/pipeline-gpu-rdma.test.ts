import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningPipelines } from '../../src/runtime/process.ts';
import { TEST_TENANTS } from '../stack/index.ts';
import { rawSeries } from '../support/gpu-rdma/harness.ts';
import { diffTenant, gpuRdmaOracle, relabel, seriesId, WINDOW_MS, windowEnd, type TenantSeries } from '../support/gpu-rdma/oracle.ts';
import { generateScrapes, pushPath, toMessage, TOPIC } from '../support/gpu-rdma/traffic.ts';
import { createTopic, eventually, produce, readDeadLetters, testKafka } from '../support/kafka-io.ts';
import { startShippedPipeline } from '../support/pipelines/harness.ts';

/**
 * pipelines/gpu-rdma.yaml end to end on the real stack: Pushgateway-style pushes of dcgm-exporter
 * and node_exporter (InfiniBand) text expositions on a 3-partition `node.metrics`, the shipped
 * pipeline in process, and each tenant's own Prometheus, checked against a plain-code oracle
 * (test/support/gpu-rdma/oracle.ts) sample by sample: every relabelled passthrough series, the
 * per-tenant GPU rollups, XID reports and the reset-corrected RDMA counters and rates.
 */
const stack = inject('stack');
const DLQ_TOPIC = 'sluice.gpu-rdma.dlq';
const PARTITIONS = 3;
const PIPELINE = new URL('../../pipelines/gpu-rdma.yaml', import.meta.url);
/** Only this pipeline's families: the tenant Prometheus instances are shared by every test file. */
const FAMILIES = '{__name__=~"gpu_.+|rdma_.+|DCGM_.+|node_infiniband_.+"}';

const kafka = testKafka(stack.brokers, 'gpu-rdma-test');

// Three minutes of scrapes from a window start, ending 70–100 s ago: every window is final by wall clock.
const start = Math.floor((Date.now() - 250_000) / WINDOW_MS) * WINDOW_MS;
const scrapes = generateScrapes(start);
const messages = scrapes.map(toMessage);
const samples = relabel(scrapes);
const lastDataEnd = windowEnd(Math.max(...scrapes.map((s) => s.timeMs)));
/** One window past the data: cumulative series repeat their total there (rates drop to 0). */
const throughEnd = lastDataEnd + WINDOW_MS;
const expected = gpuRdmaOracle(samples, throughEnd);

const unroutable = samples.filter((s) => s.tenant === undefined);
/** The pushes with unroutable samples, and how many each has: one dead letter per push. */
const unroutablePushes = messages
  .map((m) => ({ message: m, count: relabel([m.scrape]).filter((s) => s.tenant === undefined).length }))
  .filter((p) => p.count > 0);
const truncated = messages.filter((m) => m.scrape.truncated);
const filteredOut = scrapes.filter((s) => !s.truncated).reduce((n, s) => n + s.families.filter((f) => !/^(DCGM_FI_(DEV|PROF)_|node_infiniband_)/.test(f.name)).reduce((m, f) => m + f.samples.length, 0), 0);

let running: RunningPipelines | undefined;

beforeAll(async () => {
  await createTopic(kafka, TOPIC, PARTITIONS);
  // The pushers' order: by push time, 20 pushes a send. The key (the push path) keeps each exporter on one partition.
  await produce(kafka, TOPIC, [messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers }))], 20);
  running = await startShippedPipeline(stack, PIPELINE);
});

afterAll(async () => {
  await running?.stop();
});

/** A tenant's series of this pipeline's families, every stored sample, from the first window through `throughEnd`. */
async function tenantSeries(tenant: string): Promise<Map<string, [number, number][]>> {
  return rawSeries(stack.prometheus[tenant]!.url, FAMILIES, (throughEnd - start) / 1000, throughEnd / 1000, (metric) => {
    const { __name__: name, ...labels } = metric;
    return seriesId(name!, labels);
  });
}

async function allTenants(): Promise<TenantSeries> {
  const out: TenantSeries = new Map();
  for (const tenant of TEST_TENANTS) out.set(tenant, await tenantSeries(tenant));
  return out;
}

function diff(actual: TenantSeries): string[] {
  return TEST_TENANTS.flatMap((t) => diffTenant(t, expected.get(t) ?? new Map(), actual.get(t) ?? new Map()));
}

/** The labels of a series id `name{a="x",...}`. */
function labelsOf(id: string): Record<string, string> {
  const body = id.slice(id.indexOf('{') + 1, -1);
  return Object.fromEntries([...body.matchAll(/(\w+)=("(?:[^"\\]|\\.)*")/g)].map((m) => [m[1]!, JSON.parse(m[2]!) as string]));
}

describe('gpu-rdma: dcgm-exporter and node_exporter pushes → per-tenant Prometheus', () => {
  let actual: TenantSeries;

  it('the oracle itself: hand-counted totals for the scripted events', () => {
    const final = (tenant: string, id: string) => expected.get(tenant)?.get(id)?.at(-1)?.[1];
    // ib-node-01: mlx5_1 goes down at scrapes 9 and 27 and once more in the driver reload at 20
    // (3 → 1: a restart, so +1), mlx5_0 at 30. The reload itself adds no link-down on mlx5_0 (0 → 0).
    expect(final('initech', 'rdma_link_downed_total{hostname="ib-node-01"}')).toBe(4);
    expect(final('globex', 'gpu_xid_error_reports_total{gpu="1",hostname="gpu-node-18",xid="79"}')).toBe(4);
    expect(final('acme', 'gpu_xid_error_reports_total{gpu="0",hostname="gpu-node-17",xid="31"}')).toBe(1);
    // Six windows of data, plus the one after: every window end is a multiple of 30 s.
    expect(expected.get('acme')!.get('gpu_job_utilization_avg_percent{job="dcgm"}')!.map(([t]) => t)).toEqual(
      Array.from({ length: 6 }, (_, i) => start + (i + 1) * WINDOW_MS),
    );
    expect(unroutable.length).toBe(3 * 15); // gpu-node-42: 3 pushes × 15 DCGM samples
    expect(truncated.length).toBe(1);
  });

  it('delivers every series to its tenant, sample for sample as the oracle computes it', async () => {
    actual = await eventually(allTenants, (a) => diff(a).length === 0, 45_000);
    expect(diff(actual)).toEqual([]);
  });

  it('relabels the exporters\' labels into one hostname, drops the noisy ones and adds the grouping key', () => {
    const acme = actual.get('acme')!;
    const serving = [...acme.keys()].find((id) => id.startsWith('DCGM_FI_DEV_GPU_UTIL{') && id.includes('hostname="gpu-node-17"') && id.includes('gpu="0"'))!;
    expect(labelsOf(serving)).toEqual({
      UUID: 'GPU-5a3c2f1e-8d4b-4c7a-9e21-0f6b3d8a1c44',
      cluster: 'bj-h800-a',
      container: 'vllm',
      device: 'nvidia0',
      gpu: '0',
      hostname: 'gpu-node-17',
      instance: 'gpu-node-17',
      job: 'dcgm',
      modelName: 'NVIDIA H800',
      namespace: 'llm-serving',
      pod: 'qwen-72b-7d9f-x2',
    });
    // The unallocated GPU: empty container / namespace / pod are absent, routed by its node.
    const idle = [...acme.keys()].find((id) => id.startsWith('DCGM_FI_DEV_GPU_UTIL{') && id.includes('hostname="gpu-node-17"') && id.includes('gpu="1"'))!;
    expect(Object.keys(labelsOf(idle)).sort()).toEqual(['UUID', 'cluster', 'device', 'gpu', 'hostname', 'instance', 'job', 'modelName']);
    // node_exporter has no Hostname: hostname comes from the push path's instance.
    const initech = actual.get('initech')!;
    expect(labelsOf([...initech.keys()].find((id) => id.startsWith('node_infiniband_link_downed_total{') && id.includes('mlx5_1'))!)).toEqual({
      cluster: 'bj-h800-b',
      device: 'mlx5_1',
      hostname: 'ib-node-01',
      instance: 'ib-node-01:9100',
      job: 'node',
      port: '1',
    });
    for (const [tenant, series] of actual) {
      for (const id of series.keys()) {
        const labels = labelsOf(id);
        expect(labels, `${tenant} ${id}`).not.toHaveProperty('Hostname');
        expect(labels, `${tenant} ${id}`).not.toHaveProperty('pci_bus_id');
        expect(labels, `${tenant} ${id}`).not.toHaveProperty('DCGM_FI_DRIVER_VERSION');
        expect(labels, `${tenant} ${id}`).not.toHaveProperty('tenant_key');
      }
    }
    // Spot checks of the passthrough over every window: GPU utilisation and link-down counters.
    for (const family of ['DCGM_FI_DEV_GPU_UTIL{', 'node_infiniband_link_downed_total{']) {
      for (const tenant of TEST_TENANTS) {
        const want = [...expected.get(tenant)!].filter(([id]) => id.startsWith(family));
        const got = [...actual.get(tenant)!].filter(([id]) => id.startsWith(family));
        expect(new Map(got), `${tenant} ${family}`).toEqual(new Map(want));
      }
    }
  });

  it('routes node_exporter pushes whose instance is host:9100 or fully qualified by the node name (the shipped relabel rule)', () => {
    const instancesOf = (tenant: string, family: string) =>
      new Set([...actual.get(tenant)!.keys()].filter((id) => id.startsWith(family)).map((id) => `${labelsOf(id).instance} → ${labelsOf(id).hostname}`));
    expect(instancesOf('initech', 'node_infiniband_port_data_received_bytes_total{')).toEqual(new Set(['ib-node-01:9100 → ib-node-01']));
    expect(instancesOf('globex', 'node_infiniband_port_data_received_bytes_total{')).toEqual(new Set(['gpu-node-18.cluster.local:9100 → gpu-node-18']));
    expect(actual.get('initech')!.get('rdma_link_downed_total{hostname="ib-node-01"}')?.at(-1)?.[1]).toBe(4);
    expect(actual.get('globex')!.has('rdma_receive_bytes_per_second{hostname="gpu-node-18"}')).toBe(true);
  });

  it('stores NaN passthrough values as Prometheus stores them from a scrape', () => {
    const idleTensor = [...actual.get('acme')!].find(([id]) => id.startsWith('DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{') && labelsOf(id).gpu === '1');
    expect(idleTensor, 'the idle GPU\'s tensor activity').toBeDefined();
    expect(idleTensor![1].length).toBeGreaterThan(0);
    expect(idleTensor![1].every(([, v]) => Number.isNaN(v))).toBe(true);
  });

  it('keeps each tenant\'s GPUs, rollups and ports to itself', () => {
    const hostsOf = (tenant: string) => new Set([...actual.get(tenant)!.keys()].map((id) => labelsOf(id).hostname).filter((h) => h !== undefined));
    expect(hostsOf('acme')).toEqual(new Set(['gpu-node-17', 'gpu-node-18']));
    expect(hostsOf('globex')).toEqual(new Set(['gpu-node-18']));
    expect(hostsOf('initech')).toEqual(new Set(['ib-node-01']));
    // On the shared node, acme holds only its llm-serving GPU; globex nothing of gpu-node-17 or ib-node-01.
    for (const id of actual.get('acme')!.keys()) {
      const l = labelsOf(id);
      if (l.hostname === 'gpu-node-18') expect(l.gpu, id).toBe('2');
    }
    for (const id of actual.get('globex')!.keys()) {
      const l = labelsOf(id);
      expect([l.hostname, l.instance], id).not.toContain('gpu-node-17');
      expect([l.hostname, l.instance], id).not.toContain('ib-node-01');
      if (l.hostname === 'gpu-node-18' && l.gpu !== undefined) expect(['0', '1'], id).toContain(l.gpu);
    }
    expect([...actual.get('initech')!.keys()].filter((id) => id.startsWith('gpu_') || id.startsWith('DCGM_'))).toEqual([]);
    for (const series of actual.values()) expect([...series.keys()].filter((id) => id.includes('gpu-node-42'))).toEqual([]);

    // Cluster bj-h800-b holds GPUs of both tenants: each rollup is over the tenant's own GPUs only.
    const util = (host: string, gpu: string) =>
      new Map([...actual.get(host === 'gpu-node-18' && gpu === '2' ? 'acme' : 'globex')!].find(([id]) => id.startsWith('DCGM_FI_DEV_GPU_UTIL{') && id.includes(`hostname="${host}"`) && id.includes(`gpu="${gpu}"`))![1]);
    const acmeB = actual.get('acme')!.get('gpu_cluster_utilization_avg_percent{cluster="bj-h800-b"}')!;
    expect(acmeB.length).toBeGreaterThan(0);
    for (const [t, v] of acmeB) expect(v, `acme bj-h800-b @${t}`).toBe(util('gpu-node-18', '2').get(t));
    const globexB = actual.get('globex')!.get('gpu_cluster_utilization_max_percent{cluster="bj-h800-b"}')!;
    expect(globexB.length).toBeGreaterThan(0);
    for (const [t, v] of globexB) expect(v, `globex bj-h800-b @${t}`).toBe(Math.max(util('gpu-node-18', '0').get(t)!, util('gpu-node-18', '1').get(t)!));
    expect(actual.get('globex')!.has('gpu_cluster_utilization_avg_percent{cluster="bj-h800-a"}')).toBe(false);
  });

  it('dead-letters the unmapped node\'s samples as unroutable and the truncated push as malformed', async () => {
    const dead = await readDeadLetters(kafka, DLQ_TOPIC, unroutablePushes.length + truncated.length, { timeoutMs: 30_000 });
    expect(dead).toHaveLength(unroutablePushes.length + truncated.length);
    const byReason = new Map<string, Set<string>>();
    for (const d of dead) {
      if (!byReason.has(d.reason)) byReason.set(d.reason, new Set());
      byReason.get(d.reason)!.add(d.key);
      expect(d.topic).toBe(TOPIC);
      expect(d.offset).toMatch(/^\d+$/);
      expect(messages.some((m) => m.key === d.key && m.value.equals(d.value ?? Buffer.alloc(0))), `${d.reason} ${d.key}: the original bytes`).toBe(true);
    }
    expect(Object.fromEntries([...byReason].map(([reason, keys]) => [reason, [...keys]]))).toEqual({
      unroutable: [pushPath('dcgm', 'gpu-node-42', 'bj-h800-a')],
      malformed: [pushPath('dcgm', 'gpu-node-18', 'bj-h800-b')],
    });
    // One dead letter per push, whatever number of its samples failed, counted per reason in its headers.
    const unroutableDead = dead.filter((d) => d.reason === 'unroutable');
    expect(unroutableDead).toHaveLength(unroutablePushes.length);
    for (const p of unroutablePushes) {
      const letters = unroutableDead.filter((d) => d.value?.equals(p.message.value));
      expect(letters.map((d) => d.reasons), p.message.key).toEqual([`unroutable=${p.count}`]);
    }
    expect(dead.filter((d) => d.reason === 'malformed').map((d) => d.value)).toEqual([truncated[0]!.value]);
    expect(dead.find((d) => d.reason === 'malformed')!.detail).toMatch(/^prometheus_text line \d+:/);
  });

  it('counts pushes in, filtered samples and dead letters by reason on /metrics', async () => {
    const body = await (await fetch(`${running!.telemetryUrl}/metrics`)).text();
    expect(body).toContain(`sluice_records_in_total{pipeline="gpu-rdma",topic="${TOPIC}"} ${messages.length}`);
    expect(body).toContain(`sluice_records_filtered_total{pipeline="gpu-rdma"} ${filteredOut}`);
    expect(body).toContain(`sluice_dead_letter_records_total{pipeline="gpu-rdma",reason="unroutable"} ${unroutable.length}`);
    expect(body).toContain('sluice_dead_letter_records_total{pipeline="gpu-rdma",reason="malformed"} 1');
    expect(body).toContain(`sluice_dead_letter_messages_total{pipeline="gpu-rdma",reason="unroutable"} ${unroutablePushes.length}`);
    expect(body).toContain('sluice_dead_letter_unwritable_total{pipeline="gpu-rdma"} 0');
    expect(body).not.toMatch(/sluice_dead_letter_records_total\{pipeline="gpu-rdma",reason="(late|invalid_value|no_event_time)"\}/);
  });
});
