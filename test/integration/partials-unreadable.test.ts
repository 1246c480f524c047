import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { produce } from '../support/kafka-io.ts';
import { metricValue } from '../support/pipelines/harness.ts';
import { Scenario, scenarioDataset } from '../support/exactly-once/harness.ts';

/**
 * A partials message stage 2 cannot read (here: a wire version from the future, as an older
 * release meets during a rolling upgrade) must stop its partials partition, never be skipped:
 * skipping it loses its partials, and the next checkpoint commits past them. Stage 2 used to move
 * its offset before decoding, so kafkajs' retry of the batch skipped the message without a trace.
 * Now the partition waits on it and reads it again every few seconds, without re-creating the
 * consumer (which would rebalance the whole group each time); the stall fails /readyz. The
 * operator's way past it, `repartition.skip_unreadable`: partials-skip.test.ts.
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

/** A sample of the instance's `/metrics` (0 while the metric has no such sample). */
async function sample(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await (await fetch(`${url}/metrics`)).text(), name, labels) ?? 0;
}

it('waits on an unreadable partials message, reading it again, instead of skipping it', async () => {
  const s = scenario!;
  const instance = await s.startInstance('a');
  const url = instance.telemetryUrl!;
  await s.until('the instance owns its partitions', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000);
  const restarts = () => sample(url, 'sluice_kafka_client_restarts_total', { client: 'stage2-consumer' });
  const restartsBefore = await restarts();

  // Version 9 of the partials wire, at the head of stage 2's partition 0; records after it.
  await produce(s.kafka, `sluice.${s.pipeline}.partials`, [[{ partition: 0, key: 'pb', value: Buffer.from([0x09, 0x00, 0x00]) }]]);
  const production = s.produce();

  // Read again after the retry interval: the offset stayed on it.
  s.fact('read_twice_after_ms', await s.until('the message read a second time', async () => (await sample(url, 'sluice_partials_unreadable_total')) >= 2, 30_000));
  await production.done;
  // Stalled with records behind it: /readyz fails once the stall is longer than its bound (30 s).
  s.fact(
    'not_ready_after_ms',
    await s.until(
      'the stalled partition failing /readyz',
      async () => (await fetch(`${url}/readyz`)).status === 503 && (await sample(url, 'sluice_partition_stalled_since_seconds', { stage: '2', partition: '0' })) > 0,
      60_000,
    ),
  );
  expect(await sample(url, 'sluice_partials_unreadable_total')).toBeGreaterThanOrEqual(3);
  // No consumer re-creation (and so no rebalance of the group) for it, and one log line per message.
  expect(await restarts()).toBe(restartsBefore);
  expect(readFileSync(instance.logFile, 'utf8').split('partials message stage 2 cannot read').length - 1).toBe(1);
  expect(instance.exited).toBeUndefined();
}, 180_000);
