import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../support/kafka-io.ts';
import { metricValue } from '../support/pipelines/harness.ts';
import { PIPELINE_FILE, Scenario, scenarioDataset } from '../support/exactly-once/harness.ts';
import { scratchDir } from '../support/scratch-dir.ts';

/**
 * The operator's way past a partials message stage 2 cannot read (partials-unreadable.test.ts
 * shows the wait): listed in `repartition.skip_unreadable` and applied by a live reload, the
 * waiting partition moves past exactly that message. The message holds no partials of the dataset,
 * so everything else must still match the oracle exactly; a listed offset whose message decodes
 * is processed, not skipped (skipping it would lose its partials: a mismatch, and a second skip).
 */
const stack = inject('stack');
const pipelineFile = join(scratchDir('skip'), 'pipeline.yaml');
const fixture = readFileSync(PIPELINE_FILE, 'utf8');
let scenario: Scenario | undefined;

beforeAll(async () => {
  writeFileSync(pipelineFile, fixture);
  scenario = await Scenario.create({ name: 'skip', stack, dataset: scenarioDataset(9_102, 3_000, 30_000), rate: 3_000, pipelineFile });
});

afterAll(async () => {
  scenario?.printFacts();
  await scenario?.close();
});

/** A sample of the instance's `/metrics`; undefined while the metric has no such sample. */
async function sample(url: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return metricValue(await (await fetch(`${url}/metrics`)).text(), name, labels);
}

/** Writes one message to `partition` and returns its offset. */
async function produceAt(kafka: Kafka, topic: string, partition: number, key: string, value: Buffer): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const [written] = await producer.send({ topic, acks: -1, messages: [{ partition, key, value }] });
    return Number(written!.baseOffset);
  } finally {
    await producer.disconnect();
  }
}

/** The offset of the first committed partials message (key `pb`, not a watermark marker) on `partition` after `after`. */
async function firstPartialsAfter(kafka: Kafka, topic: string, partition: number, after: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `skip-reader-${Date.now()}` });
  await consumer.connect();
  let found: number | undefined;
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition: p, message }) => {
        const offset = Number(message.offset);
        if (found === undefined && p === partition && offset > after && message.key?.toString() === 'pb') found = offset;
      },
    });
    await eventually(async () => found, (f) => f !== undefined, 60_000);
  } finally {
    await consumer.disconnect();
  }
  if (found === undefined) throw new Error(`no partials message on ${topic}/${partition} after offset ${after}`);
  return found;
}

it('moves a waiting partition past the listed unreadable message on a reload, and nothing else', async () => {
  const s = scenario!;
  const partials = `sluice.${s.pipeline}.partials`;
  const instance = await s.startInstance('a');
  const url = instance.telemetryUrl!;
  await s.until('the instance owns its partitions', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000);
  expect(await sample(url, 'sluice_partials_skipped_total', { pipeline: s.pipeline }), 'present from the start').toBe(0);

  // Version 9 of the partials wire on stage 2's partition 0, then the dataset behind it.
  const unreadable = await produceAt(s.kafka, partials, 0, 'pb', Buffer.from([0x09, 0x00, 0x00]));
  s.fact('unreadable_offset', unreadable);
  s.produce();
  await s.until('partition 0 waiting on it', async () => ((await sample(url, 'sluice_partials_unreadable_total')) ?? 0) >= 1, 30_000);
  await s.productionDone();
  const readable = await firstPartialsAfter(s.kafka, partials, 0, unreadable);
  s.fact('listed_readable_offset', readable);
  // Still waiting: nothing skipped without the list.
  expect(await sample(url, 'sluice_partials_skipped_total', { pipeline: s.pipeline })).toBe(0);

  const listed = `repartition:\n  partitions: 4\n  skip_unreadable:\n    - { partition: 0, offset: ${unreadable} }\n    - { partition: 0, offset: ${readable} }\n`;
  expect(fixture).toContain('repartition:\n  partitions: 4\n');
  writeFileSync(pipelineFile, fixture.replace('repartition:\n  partitions: 4\n', listed));
  const answer = (await eventually(
    async () => (await fetch(`${url}/-/reload`, { method: 'POST' })).json() as Promise<{ ok: boolean; result: string; reasons: string[] }>,
    (a) => a.ok,
    60_000,
    1_000,
  ));
  // 'applied' (or 'unchanged' when the file watch reloaded it first).
  expect(answer.ok, JSON.stringify(answer)).toBe(true);

  s.fact('finish_after_reload_ms', await s.waitFinished());
  const report = await s.verify();
  expect(report.ok, s.describe(report)).toBe(true);
  expect(await sample(url, 'sluice_partials_skipped_total', { pipeline: s.pipeline })).toBe(1);
  const skips = readFileSync(instance.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('unreadable partials message skipped'))
    .map((line) => JSON.parse(line) as { partition: number; offset: number; pipeline: string; error: string });
  expect(skips).toEqual([expect.objectContaining({ pipeline: s.pipeline, partition: 0, offset: unreadable, error: expect.any(String) })]);
  expect(instance.exited).toBeUndefined();
}, 240_000);
