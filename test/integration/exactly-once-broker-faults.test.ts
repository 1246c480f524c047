import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { KafkaHandle } from '../stack/kafka.ts';
import type { StackInfo } from '../stack/types.ts';
import { brokerFault, instanceAfterFault, startDedicatedBroker } from '../support/exactly-once/broker-fault.ts';
import { Scenario, scenarioDataset } from '../support/exactly-once/harness.ts';

/**
 * Issue 8, broker faults: mid-stream, the Kafka broker (the file's own, see broker-fault.ts) is
 * stopped with SIGTERM and started again on the same data dir, once 5 s later (a restart) and
 * once 60 s later (an outage). kafkajs reports the consumer crashed ("Failed to find group
 * coordinator") and stage-1 transactions fail, again and again during the outage. The instance
 * must re-create its clients, continue from its last commits, be ready again, and end exact.
 */
let broker: KafkaHandle | undefined;
let stack: StackInfo | undefined;

beforeAll(async () => {
  const dedicated = await startDedicatedBroker(inject('stack'), 'broker-faults');
  broker = dedicated.broker;
  stack = dedicated.stack;
});

afterAll(async () => {
  await broker?.stop();
});

it.each([
  { name: 'broker-restart', seed: 8_001, downMs: 5_000 },
  { name: 'broker-outage', seed: 8_002, downMs: 60_000 },
])('$name: the broker down for $downMs ms mid-stream, then back on its data; results stay exact', async ({ name, seed, downMs }) => {
  const s = await Scenario.create({
    name,
    stack: stack!,
    dataset: scenarioDataset(seed, 60_000, 150_000),
    // Production (50 s) still runs when the broker stops, about 10 s in (20 % committed), with
    // 40 s to spare for a slow commit on a busy machine; sends that meet the stopped broker wait.
    rate: 1_200,
    brokerOutageMs: downMs + 30_000,
    // The dataset's event times lie in the past; no partition may look idle while the broker shuts down.
    env: { EO_IDLE_TIMEOUT: '10s' },
  });
  try {
    const production = s.produce();
    await production.waitFor(0.02);
    const instance = await s.startInstance('a');
    await brokerFault(s, broker!, { at: 0.2, downMs });
    await s.productionDone();
    await s.waitFinished();
    const report = await s.verify();
    expect(report.ok, s.describe(report)).toBe(true);
    expect(await instanceAfterFault(s, instance)).toEqual({ ready: true, stalled: [] });
  } finally {
    s.printFacts();
    await s.close();
  }
}, 480_000);
