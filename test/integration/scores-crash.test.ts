import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { EO_TENANTS } from '../support/exactly-once/dataset.ts';
import { readDeadLetters, sleep } from '../support/exactly-once/kafka.ts';
import { querySamples } from '../support/exactly-once/prometheus.ts';
import { Scenario, scenarioDataset } from '../support/exactly-once/harness.ts';
import { seededRandom } from '../support/seeded-random.ts';

/**
 * Issue 10: drift and anomaly scores (and their events) survive kill -9. The same dataset runs
 * twice, one run after the other, on the real stack, in two pipelines of test/fixtures/pipelines/exactly-once-scores.yaml:
 * one uninterrupted, one SIGKILLed three times mid-stream and restarted from its Redis checkpoint.
 * Every drift, anomaly and data-quality sample each tenant's Prometheus ends up with, and the set
 * of anomaly events on Kafka (by key, read committed), must be the same in both.
 */
const stack = inject('stack');
const pipelineFile = fileURLToPath(new URL('../fixtures/pipelines/exactly-once-scores.yaml', import.meta.url));
const KILLS = 3;
const dataset = scenarioDataset(10_010, 24_000, 150_000);
let steady: Scenario | undefined;
let crashed: Scenario | undefined;

beforeAll(async () => {
  steady = await Scenario.create({ name: 'scores-steady', stack, dataset, rate: 2_000, pipelineFile, readyTimeoutMs: 150_000 });
  crashed = await Scenario.create({ name: 'scores-crash', stack, dataset, rate: 1_000, pipelineFile, readyTimeoutMs: 150_000 });
}, 120_000);

afterAll(async () => {
  steady?.printFacts();
  crashed?.printFacts();
  await steady?.close();
  await crashed?.close();
});

/** Every scores_* sample of every tenant, as `tenant name{labels} @t value` lines, sorted. */
async function scoreSamples(s: Scenario): Promise<string[]> {
  const nowSec = Date.now() / 1000;
  const rangeSec = nowSec - (s.oracle.firstWindowEnd - 120_000) / 1000;
  const lines: string[] = [];
  for (const tenant of EO_TENANTS) {
    for (const series of await querySamples(s.receivers[tenant]!.url, '{__name__=~"scores_.+"}', rangeSec, nowSec)) {
      const { __name__: name, ...labels } = series.metric;
      const id = `${tenant} ${name}${JSON.stringify(Object.entries(labels).sort())}`;
      for (const [t, v] of series.samples) lines.push(`${id} @${t} ${v}`);
    }
  }
  return lines.sort();
}

/** The anomaly events of a pipeline, one per key (a replay may repeat one: the same key and bytes). */
async function events(s: Scenario): Promise<Map<string, string>> {
  const letters = await readDeadLetters(s.kafka, s.admin, `sluice.${s.pipeline}.anomalies`, 1, { quietMs: 3_000, timeoutMs: 20_000 });
  const byKey = new Map<string, string>();
  for (const { key, value } of letters) {
    const text = value?.toString() ?? '';
    expect(byKey.get(key) ?? text, `event ${key} repeated with other content`).toBe(text);
    byKey.set(key, text);
  }
  return byKey;
}

/** Runs `work`, adding the instances' log tails to a failure. */
async function withTails<T>(s: Scenario, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${s.tails()}`, { cause: error });
  }
}

it('gives the same drift and anomaly scores and events after SIGKILLs and restores as an uninterrupted run', async () => {
  const a = steady!;
  const b = crashed!;
  // One run after the other: two pipelines and ten receivers at once are too much for a shared 2-core machine.
  await withTails(a, async () => {
    a.produce();
    await a.startInstance('a');
    await a.productionDone();
    await a.waitFinished();
  });
  const random = seededRandom(0x5c0e5);
  const killedAt: string[] = [];
  await withTails(b, async () => {
    const production = b.produce();
    await production.waitFor(0.02);
    let instance = await b.startInstance('a');
    while (killedAt.length < KILLS) {
      await sleep(3_000 + random() * 4_000);
      b.assertNoCrash();
      await b.kill(instance, 'SIGKILL');
      killedAt.push((production.produced / dataset.sequence.length).toFixed(2));
      await sleep(200 + random() * 800);
      instance = await b.startInstance('a');
    }
    b.fact('killed_at_produced_fraction', killedAt.join(','));
    await b.productionDone();
    await b.waitFinished();
  });
  // The last windows' scores may trail the counters the finish waits for: read until both agree and hold.
  let want: string[] = [];
  let got: string[] = [];
  for (let attempt = 0; attempt < 10; attempt++) {
    [want, got] = await Promise.all([scoreSamples(a), scoreSamples(b)]);
    if (want.length > 0 && want.join('\n') === got.join('\n')) break;
    await sleep(2_000);
  }
  b.fact('score_samples', got.length);
  const names = new Set(want.map((line) => line.split(' ')[1]!.replace(/\[.*$/, '')));
  expect([...names].sort(), [...names].join(' ')).toEqual(expect.arrayContaining(['scores_latency_anomaly', 'scores_latency_anomaly_events_total', 'scores_latency_drift', 'scores_latency_drift_detected', 'scores_model_mix_drift', 'scores_model_mix_drift_detected', 'scores_tokens_quality']));
  expect(got).toEqual(want);
  const [wantEvents, gotEvents] = await Promise.all([events(a), events(b)]);
  b.fact('anomaly_events', gotEvents.size);
  expect(wantEvents.size).toBeGreaterThan(0);
  expect(new Map([...gotEvents].sort())).toEqual(new Map([...wantEvents].sort()));
  expect(killedAt).toHaveLength(KILLS);
}, 900_000);
