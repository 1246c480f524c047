import { join } from 'node:path';
import { startKafka, type KafkaHandle } from '../../stack/kafka.ts';
import type { StackInfo } from '../../stack/types.ts';
import { sleep } from './kafka.ts';
import type { Instance, Scenario } from './harness.ts';

/**
 * Broker faults for the exactly-once scenarios. A scenario that stops its broker gets one of its
 * own: the integration stack's broker serves every other test file, and a test that stops it
 * would have to prove it healthy again for them. The dedicated broker runs on the stack's run dir
 * (data and log stay there for debugging) and is stopped by the test.
 */
export async function startDedicatedBroker(stack: StackInfo, name: string): Promise<{ broker: KafkaHandle; stack: StackInfo }> {
  const dir = join(stack.runDir, 'exactly-once', `${name}-broker-${Date.now()}`);
  const broker = await startKafka({ dir, logFile: join(dir, 'kafka.log') });
  return { broker, stack: { ...stack, brokers: [...broker.brokers], logs: { ...stack.logs, [`kafka-${name}`]: broker.logFile } } };
}

/**
 * Stops the broker with SIGTERM (a controlled shutdown) once the pipeline has committed `at` of
 * the dataset's source offsets, keeps it down for `downMs`, and starts it again on the same ports
 * and data dir. Production goes on around it (its sends wait for the broker), so the pipeline is
 * mid-stream throughout. Records, as facts: how long the stop and the start took, and how long
 * after the broker was back the pipeline committed source offsets again (consumption and
 * transactions resumed).
 */
export async function brokerFault(s: Scenario, broker: KafkaHandle, { at, downMs }: { at: number; downMs: number }): Promise<void> {
  const production = s.production;
  if (!production) throw new Error('brokerFault() before produce()');
  const records = s.options.dataset.sequence.length;
  await s.until(`the pipeline to commit ${at} of the source offsets`, async () => (await committedTotal(s)) >= at * records, 180_000, 250);
  s.fact('broker_stopped_at_produced_fraction', (production.produced / records).toFixed(2));
  s.fact('broker_stopped_at_committed_fraction', ((await committedTotal(s)) / records).toFixed(2));
  const stopping = Date.now();
  await broker.stop();
  s.fact('broker_stop_ms', Date.now() - stopping);
  await sleep(Math.max(0, downMs - (Date.now() - stopping)));
  s.assertNoCrash();
  const starting = Date.now();
  await broker.start();
  const back = Date.now();
  s.fact('broker_start_ms', back - starting);
  s.fact('broker_unavailable_ms', back - stopping);
  let before = -1;
  for (let i = 0; i < 60 && before < 0; i++) {
    before = await committedTotal(s);
    if (before < 0) await sleep(500);
  }
  await s.until('source offsets committed again after the broker came back', async () => (await committedTotal(s)) > before, 180_000, 250);
  s.fact('resume_after_broker_back_ms', Date.now() - back);
}

/** Source offsets the pipeline has committed, summed over partitions; -1 while the admin client cannot tell. */
async function committedTotal(s: Scenario): Promise<number> {
  try {
    return [...(await s.committedSourceOffsets()).values()].reduce((a, b) => a + Math.max(0, b), 0);
  } catch {
    return -1;
  }
}

/**
 * The instance's own account of the fault (facts for the note): client restarts from /metrics,
 * and the time until /readyz answers 200 and no partition reports a stall (a partition paused a
 * moment by backpressure may show one briefly). Returns the last state seen, within `timeoutMs`.
 */
export async function instanceAfterFault(s: Scenario, instance: Instance, timeoutMs = 60_000): Promise<{ ready: boolean; stalled: string[] }> {
  const base = instance.telemetryUrl;
  if (!base) throw new Error(`instance ${instance.name} has no telemetry URL`);
  const started = Date.now();
  for (;;) {
    const lines = (await (await fetch(`${base}/metrics`)).text()).split('\n');
    const restarts = lines
      .filter((line) => line.startsWith('sluice_kafka_client_restarts_total{'))
      .map((line) => `${/client="([^"]+)"/.exec(line)?.[1]}=${line.slice(line.lastIndexOf(' ') + 1)}`);
    s.fact('client_restarts', restarts.join(',') || 'none');
    const stalled = lines.filter((line) => line.startsWith('sluice_partition_stalled_since_seconds{') && !line.endsWith(' 0'));
    const ready = (await fetch(`${base}/readyz`)).status === 200;
    if ((ready && stalled.length === 0) || Date.now() - started > timeoutMs) {
      s.fact('ready_and_unstalled_after_finish_ms', Date.now() - started);
      return { ready, stalled };
    }
    await sleep(1_000);
  }
}
