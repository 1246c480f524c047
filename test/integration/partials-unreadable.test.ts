import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { produce } from '../support/kafka-io.ts';
import { Scenario, scenarioDataset } from '../support/exactly-once/harness.ts';

/**
 * A partials message stage 2 cannot read (here: a wire version from the future, as an older
 * release meets during a rolling upgrade) must stop its partials partition, never be skipped:
 * skipping it loses its partials, and the next checkpoint commits past them. Stage 2 used to move
 * its offset before decoding, so kafkajs' retry of the batch skipped the message without a trace.
 * Now the message is read again on every retry, until the consumer is re-created (counted in
 * sluice_kafka_client_restarts_total), and still not skipped after that.
 */
const stack = inject('stack');
let scenario: Scenario | undefined;

beforeAll(async () => {
  scenario = await Scenario.create({ name: 'unreadable', stack, dataset: scenarioDataset(9_101, 3_000, 30_000), rate: 3_000 });
});

afterAll(async () => {
  scenario?.printFacts();
  await scenario?.close();
});

async function metricLines(url: string, prefix: string): Promise<string[]> {
  return (await (await fetch(`${url}/metrics`)).text()).split('\n').filter((line) => line.startsWith(prefix));
}

it('retries an unreadable partials message instead of skipping it', async () => {
  const s = scenario!;
  const instance = await s.startInstance('a');
  const url = instance.telemetryUrl!;
  await s.until('the instance owns its partitions', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000);
  // Version 9 of the partials wire, at the head of stage 2's partition 0.
  await produce(s.kafka, `sluice.${s.pipeline}.partials`, [[{ partition: 0, key: 'pb', value: Buffer.from([0x09, 0x00, 0x00]) }]]);
  const production = s.produce();

  const restartedAfterMs = await s.until(
    "stage 2's consumer re-created after retrying the message",
    async () => (await metricLines(url, 'sluice_kafka_client_restarts_total{')).some((line) => line.includes('client="stage2-consumer"') && !line.endsWith(' 0')),
    90_000,
  );
  s.fact('stage2_restarted_after_ms', restartedAfterMs);
  await production.done;
  expect(readFileSync(instance.logFile, 'utf8')).toContain('partials message of unknown version 9');
  // Still not past it: the re-created consumer read it again from the checkpoint.
  const log = readFileSync(instance.logFile, 'utf8');
  expect(log.split('partials message of unknown version 9').length - 1).toBeGreaterThan(1);
  expect(instance.exited).toBeUndefined();
}, 180_000);
