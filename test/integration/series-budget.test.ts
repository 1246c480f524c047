import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPipelines, type RunningPipelines } from '../../src/runtime/process.ts';
import { querySamples, type SeriesSamples } from '../stack/prometheus-query.ts';
import { floodLogs, gatewayVariant } from '../support/cardinality.ts';
import { gatewayOracle, isFloatSum } from '../support/gateway-oracle.ts';
import { generateGatewayLogs, type GatewayCallLog } from '../support/gateway-traffic.ts';
import { createTopic, eventually, produce, testKafka, type PartitionedMessage } from '../support/kafka-io.ts';
import { metricValue } from '../support/pipelines/harness.ts';
import { startPrometheusReceiver, type ReceiverHandle } from '../support/receivers/services.ts';
import { seriesId } from '../support/series-id.ts';

/**
 * A label flood and sparse series on the real stack (Kafka, the gateway pipeline, a Prometheus per
 * tenant, started here so no other test's series mix in):
 * - `initech` sends 3,000 calls, each with a new `error_code`, against a series budget of 800:
 *   new series beyond it fold into the otel_metric_overflow="true" series (one per stage-2
 *   partition), and its own series plus the overflow series still add up to exactly what it sent;
 * - `acme` sends ordinary traffic and is exact, series by series, against the offline oracle —
 *   with `expire_after: 30s`, so its sparse error series expire and come back, and must resume
 *   their totals (never going backwards) instead of restarting from 0.
 */
const stack = inject('stack');
const TOPIC = 'series-budget.gateway.logs';
const PARTITIONS = 3;
const WINDOW_MS = 10_000;
const EXPIRE_MS = 30_000;
const FLOOD = 3_000;
const FLOOD_BUDGET = 800;

const kafka = testKafka(stack.brokers, 'series-budget-test');
const start = Math.floor((Date.now() - 240_000) / WINDOW_MS) * WINDOW_MS;
const acme: GatewayCallLog[] = [...generateGatewayLogs({ seed: 11, tenants: ['acme'], startMs: start, spanMs: 150_000, count: 4_000 })];
// The case: old total 2, a gap longer than expire_after, then 3 more.
const sparse = [1_000, 2_000, 100_000, 101_000, 102_000].map((at, i) => ({
  ...acme[0]!,
  request_id: `sparse-${i}`,
  timestamp: start + at,
  model: 'qwen-sparse',
  http_status: 401,
  error_code: 'InvalidApiKey',
  output_tokens: 0,
  ttft_ms: null,
  stream: false,
}));
const acmeAll = [...acme, ...sparse].sort((a, b) => a.timestamp - b.timestamp);
const flood = [...floodLogs('initech', start, 60_000, FLOOD)];
const lastWindowEnd = Math.floor(Math.max(...acmeAll.map((r) => r.timestamp)) / WINDOW_MS) * WINDOW_MS + WINDOW_MS;
/** Query time and range: past the last expiry, back to before the first sample. */
const queryAtSec = (lastWindowEnd + EXPIRE_MS + WINDOW_MS) / 1000;
const rangeSec = queryAtSec - start / 1000 + 60;

let dir: string;
let receivers: Record<'acme' | 'initech', ReceiverHandle>;
let running: RunningPipelines | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-series-budget-'));
  const [a, i] = await Promise.all([startPrometheusReceiver(join(dir, 'acme')), startPrometheusReceiver(join(dir, 'initech'))]);
  receivers = { acme: a, initech: i };
  await createTopic(kafka, TOPIC, PARTITIONS);
  await produce(kafka, TOPIC, partitioned([...acmeAll, ...flood]));
  const loaded = gatewayVariant({
    name: 'series-budget',
    topic: TOPIC,
    brokers: stack.brokers,
    expireAfter: `${EXPIRE_MS / 1000}s`,
    tenants: {
      acme: { url: a.remoteWriteUrl },
      initech: { url: i.remoteWriteUrl, limits: { max_state_series: FLOOD_BUDGET } },
    },
  });
  running = await startPipelines([loaded], { logger: pino({ level: 'warn' }) });
});

afterAll(async () => {
  await running?.stop();
  await Promise.allSettled(Object.values(receivers ?? {}).map((rx) => rx.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('series budget and retained totals, end to end', () => {
  it('keeps the other tenant exact series by series, its sparse series resuming across expiry', async () => {
    const want = gatewayOracle(acmeAll).get('acme')!;
    const rows = await eventually(() => readAll('acme'), (got) => matches(lastValues(got), want), 150_000, 1_000);
    const got = lastValues(rows);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [id, value] of want) {
      if (isFloatSum(id)) expect(Math.abs(got.get(id)! - value), id).toBeLessThanOrEqual(1e-9 * Math.max(1, value));
      else expect(got.get(id), id).toBe(value);
    }
    // Cumulative series never go backwards, across their gaps too.
    for (const row of rows) {
      for (let k = 1; k < row.samples.length; k++) expect(row.samples[k]![1], seriesId(row.metric)).toBeGreaterThanOrEqual(row.samples[k - 1]![1]);
    }
    // The sparse series did expire (a gap longer than expire_after) and resumed: 2, then 5.
    const requests = rows.find((r) => r.metric.__name__ === 'bailian_gateway_requests_total' && r.metric.model === 'qwen-sparse')!;
    const values = requests.samples.map(([, v]) => v);
    expect(values[0]).toBe(2);
    expect(values.at(-1)).toBe(5);
    const gaps = requests.samples.slice(1).map(([t], k) => t - requests.samples[k]![0]);
    expect(Math.max(...gaps)).toBeGreaterThan(EXPIRE_MS);
    const resumed = rows.filter((r) => r.samples.slice(1).some(([t], k) => t - r.samples[k]![0] > EXPIRE_MS));
    expect(resumed.length).toBeGreaterThan(10); // the generator's own sparse error series too
  });

  it('folds the flood beyond the budget into the overflow series, whose values carry exactly what was folded', async () => {
    const wantRequests = flood.length;
    const wantInputTokens = flood.reduce((sum, r) => sum + r.input_tokens, 0);
    const total = (rows: SeriesSamples[], name: string) =>
      rows.filter((r) => r.metric.__name__ === name).reduce((sum, r) => sum + r.samples.at(-1)![1], 0);
    const rows = await eventually(
      () => readAll('initech'),
      (got) => total(got, 'bailian_gateway_requests_total') === wantRequests && total(got, 'bailian_gateway_input_tokens_total') === wantInputTokens,
      150_000,
      1_000,
    );
    expect(total(rows, 'bailian_gateway_requests_total')).toBe(wantRequests);
    expect(total(rows, 'bailian_gateway_input_tokens_total')).toBe(wantInputTokens);
    expect(total(rows, 'bailian_gateway_request_duration_seconds_count')).toBe(wantRequests);

    const requests = rows.filter((r) => r.metric.__name__ === 'bailian_gateway_requests_total');
    // One overflow series per stage-2 partition (each folds on its own; one writer per series).
    const overflow = requests.filter((r) => r.metric.otel_metric_overflow === 'true');
    expect(overflow.length).toBeGreaterThan(1);
    for (const r of overflow) expect(Object.keys(r.metric).sort()).toEqual(['__name__', 'otel_metric_overflow', 'sluice_partition']);
    const own = requests.filter((r) => r.metric.otel_metric_overflow === undefined);
    const folded = overflow.reduce((sum, r) => sum + r.samples.at(-1)![1], 0);
    expect(folded).toBe(wantRequests - own.reduce((sum, r) => sum + r.samples.at(-1)![1], 0));
    expect(folded).toBeGreaterThan(FLOOD / 2);
    // Only a few of the 3,000 codes ever had state of their own (the budget holds 40 at a time).
    expect(own.length).toBeGreaterThan(0);
    expect(own.length).toBeLessThan(FLOOD / 10);

    const body = await (await fetch(`${running!.telemetryUrl}/metrics`)).text();
    expect(metricValue(body, 'sluice_state_series_folded_total', { pipeline: 'series-budget', tenant: 'initech' })).toBeGreaterThan(FLOOD / 2);
    expect(metricValue(body, 'sluice_state_series_folded_total', { pipeline: 'series-budget', tenant: 'acme' })).toBeUndefined();
  });
});

/** Every gateway series of a tenant's Prometheus: raw samples (stale markers are not returned). */
function readAll(tenant: 'acme' | 'initech'): Promise<SeriesSamples[]> {
  return querySamples(receivers[tenant].url, '{__name__=~"bailian_gateway_.+"}', rangeSec, queryAtSec);
}

function lastValues(rows: readonly SeriesSamples[]): Map<string, number> {
  return new Map(rows.map((r) => [seriesId(r.metric), r.samples.at(-1)![1]]));
}

function matches(got: Map<string, number>, want: Map<string, number>): boolean {
  if (got.size !== want.size) return false;
  for (const [id, value] of want) if (!(Math.abs((got.get(id) ?? Number.NaN) - value) <= 1e-6 * Math.max(1, value))) return false;
  return true;
}

/** Round-robin over the partitions, in event-time order within each. */
function partitioned(records: readonly GatewayCallLog[]): PartitionedMessage[][] {
  const lists: PartitionedMessage[][] = Array.from({ length: PARTITIONS }, () => []);
  [...records]
    .sort((a, b) => a.timestamp - b.timestamp)
    .forEach((r, i) => lists[i % PARTITIONS]!.push({ partition: i % PARTITIONS, key: r.request_id, value: Buffer.from(JSON.stringify(r)) }));
  return lists;
}
