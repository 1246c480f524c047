/**
 * What the shipped gateway pipeline costs with nothing to read: its CPU (a share of one core, by
 * thread) and the Kafka requests it makes per second, by API, over 30 s after a 15 s settle, on
 * the test stack with an empty source topic. Not in `npm run bench`.
 *
 *   node --import tsx test/bench/idle-bench.ts
 *
 * Measured: 4.5 and 5.4 % of a core before Sluice's fix of kafkajs's request-queue timer loop
 * (src/sources/kafka/kafkajs-request-queue.ts), 1.7–3.0 % after (four runs); per second then
 * ListOffsets 4.0, GroupCoordinator (FindCoordinator) 4.8, AddPartitionsToTxn, Produce and EndTxn
 * 2.4 each (stage 1's idle markers), Fetch 3.0, Heartbeat 1.8, Metadata 2.0.
 * Since an idle partition announces its watermark only when the move can fire a window (10 s
 * windows here), taking turns with the code before (two runs each): AddPartitionsToTxn, Produce
 * and EndTxn 0.2–0.3 per second each against 2.0, GroupCoordinator 0.4–0.6 against 3.8–4.0, all
 * requests 11.3 per second against 20.2; CPU 2.73 and 2.86 % of a core against 3.70 and 2.91 %.
 */
import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { loadPipelineFile } from '../../src/config/load.ts';
import { startPipelines } from '../../src/runtime/process.ts';
import { startStack } from '../stack/index.ts';
import { BENCH_TENANTS, phaseEnvironment } from './gateway-topic.ts';
import { threadCpu } from './thread-cpu.ts';

const SETTLE_MS = 15_000;
const MEASURE_S = 30;

const runDir = mkdtempSync(join(tmpdir(), 'sluice-idle-bench-'));
const stack = await startStack({ runDir, tenants: [...BENCH_TENANTS], redis: false });
try {
  // The pipeline bench's environment (the stack's addresses, a 1 s idle timeout); no records.
  Object.assign(process.env, phaseEnvironment(stack, 0, 0));
  const loaded = await loadPipelineFile(new URL('../../pipelines/bailian-gateway.yaml', import.meta.url).pathname);
  const admin = new Kafka({ clientId: 'idle-bench', brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: loaded.config.source.topics.map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
  await admin.disconnect();

  // Every request any kafkajs connection of this process sends, by API.
  const Connection = createRequire(import.meta.url)('kafkajs/src/network/connection.js') as { prototype: { send(args: { request: { apiName: string } }): unknown } };
  const requests = new Map<string, number>();
  const send = Connection.prototype.send;
  Connection.prototype.send = function (this: unknown, args) {
    requests.set(args.request.apiName, (requests.get(args.request.apiName) ?? 0) + 1);
    return send.call(this, args);
  };

  const running = await startPipelines([loaded], { logger: pino({ level: 'warn' }), telemetryListen: '127.0.0.1:0' });
  await sleep(SETTLE_MS);
  requests.clear();
  const [cpuBefore, threadsBefore] = [process.cpuUsage(), threadCpu()];
  await sleep(MEASURE_S * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  const threads = threadCpu();
  const share = (seconds: number) => `${((seconds / MEASURE_S) * 100).toFixed(2)} %`;
  const byThread = threads && threadsBefore ? ` (main thread ${share(threads.main - threadsBefore.main)}, other threads ${share(threads.other - threadsBefore.other)})` : '';
  process.stdout.write(`idle gateway pipeline: ${share((cpu.user + cpu.system) / 1e6)} of a core${byThread}\n`);
  process.stdout.write(`Kafka requests per second: ${[...requests].map(([api, n]) => `${api} ${(n / MEASURE_S).toFixed(1)}`).join(', ')}\n`);
  await running.stop();
} finally {
  await stack.stop();
  rmSync(runDir, { recursive: true, force: true });
}
