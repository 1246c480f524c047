import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { unpackState } from '../../src/runtime/repartition-codec.ts';
import { freePort, queryInstant } from '../stack/index.ts';
import { startRedis } from '../stack/redis.ts';
import { createTopic, eventually, produce, testKafka, type PartitionedMessage } from '../support/kafka-io.ts';
import { SluiceProcess } from '../support/sluice-process.ts';

/**
 * Issue 8, item 9: `sluice run` stops on SIGTERM and on SIGINT with exit code 0 within 10 s,
 * and what it had read is not lost: stage 1's last transaction commits the source offsets up to
 * the end of the topic, and stage 2 writes a last checkpoint (the fixture has no periodic flush
 * or checkpoint, so both can only come from the shutdown). One tenant's endpoint is unreachable,
 * so the sink has samples it cannot deliver when the signal comes.
 *
 * The SIGINT run restarts the pipeline the SIGTERM run stopped: it must read only the new records.
 */

const PIPELINE_FILE = fileURLToPath(new URL('../fixtures/pipelines/shutdown.yaml', import.meta.url));
const EXIT_BOUND_MS = 10_000;
const PARTITIONS = 3;
const PARTIALS_PARTITIONS = 2;
const PER_PARTITION = 40;
const WINDOW_MS = 10_000;

const stack = inject('stack');
const pipeline = `sd-${randomBytes(3).toString('hex')}`;
const topic = `${pipeline}.in`;
const dir = join(stack.runDir, 'shutdown', pipeline);
// Aligned so batch k lies in window k; two minutes back, so all windows are in the past.
const base = Math.floor((Date.now() - 120_000) / WINDOW_MS) * WINDOW_MS;

let kafka: Kafka;
let admin: Admin;
let redis: Redis;
let env: Record<string, string>;
const started: SluiceProcess[] = [];
const exitTimes: Record<string, number> = {};
let checkpointsAfterSigterm: number[] = [];

/** Batch `k`: PER_PARTITION records on every partition, event times spread over window k, tenants alternating. */
function batch(k: number): PartitionedMessage[][] {
  return Array.from({ length: PARTITIONS }, (_, partition) =>
    Array.from({ length: PER_PARTITION }, (_, i) => ({
      partition,
      key: `${k}-${partition}-${i}`,
      value: JSON.stringify({
        ts: base + k * WINDOW_MS + Math.floor((i * (WINDOW_MS - 1)) / PER_PARTITION),
        tenant: i % 2 === 0 ? 'acme' : 'unreachable',
        model: `m${i % 3}`,
      }),
    })),
  );
}

async function sourceOffsets(): Promise<{ committed: number[]; end: number[] }> {
  const [fetched] = await admin.fetchOffsets({ groupId: pipeline, topics: [topic] });
  const committed = Array.from({ length: PARTITIONS }, (_, p) => Number(fetched?.partitions.find((x) => x.partition === p)?.offset ?? -1));
  const ends = await admin.fetchTopicOffsets(topic);
  const end = Array.from({ length: PARTITIONS }, (_, p) => Number(ends.find((x) => x.partition === p)?.high ?? -1));
  return { committed, end };
}

/**
 * Source offsets once the committed ones reach the end, or after 15 s. The broker makes a
 * transaction's offsets visible when it has written the commit markers, just after EndTxn returns.
 */
function committedUpToEnd(): Promise<{ committed: number[]; end: number[] }> {
  return eventually(sourceOffsets, ({ committed, end }) => committed.every((c, p) => c === end[p]), 15_000, 250);
}

/** The stage-2 checkpoint offset of each partials partition in Redis (its incremental checkpoint's head); -1 where there is none. */
async function checkpointOffsets(): Promise<number[]> {
  const offsets: number[] = [];
  for (let p = 0; p < PARTIALS_PARTITIONS; p++) {
    const bytes = await redis.getBuffer(`sluice:{${pipeline}:${p}}:head`);
    offsets.push(bytes ? unpackState<{ offset: number }>(bytes).offset : -1);
  }
  return offsets;
}

function start(name: string, overrides: Record<string, string> = {}): SluiceProcess {
  const instance = SluiceProcess.spawn(PIPELINE_FILE, { ...env, ...overrides }, join(dir, `${name}.log`));
  started.push(instance);
  return instance;
}

/**
 * Signals, and checks the exit: code 0, within the bound, nothing forced or left open. With
 * `kafkajsRetryPending`, a timer may be left open: a kafkajs call abandoned at the signal keeps its
 * retry timer until its retries run out, and the process ends it (and itself) a second after the stop.
 */
async function stopAndCheck(instance: SluiceProcess, signal: NodeJS.Signals, { kafkajsRetryPending = false } = {}): Promise<void> {
  const { status, ms } = await instance.stopWith(signal, 20_000);
  exitTimes[`${signal} (${basename(instance.logFile, '.log')})`] = ms;
  expect(status, `no exit within 20 s of ${signal}\n${instance.tail()}`).toEqual({ code: 0, signal: null });
  expect(ms, `exit took ${ms} ms after ${signal}\n${instance.tail()}`).toBeLessThan(EXIT_BOUND_MS);
  const log = instance.log();
  expect(log).toContain('"msg":"sluice stopped"');
  expect(log).not.toMatch(/forcing exit|did not close cleanly|did not disconnect cleanly|did not stop cleanly/);
  if (!kafkajsRetryPending) expect(log).not.toContain('still open after shutdown');
  else expect(log).not.toMatch(/still open after shutdown.*"open":\[(?!"Timeout"\])/);
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  kafka = testKafka(stack.brokers, `shutdown-test-${pipeline}`);
  admin = kafka.admin();
  await admin.connect();
  await createTopic(kafka, topic, PARTITIONS);
  redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: 1 });
  env = {
    SD_PIPELINE: pipeline,
    SD_TOPIC: topic,
    SLUICE_KAFKA_BROKERS: stack.brokers.join(','),
    SLUICE_REDIS_URL: stack.redisUrl,
    SD_ACME_URL: stack.prometheus.acme!.remoteWriteUrl,
    SD_UNREACHABLE_URL: `http://127.0.0.1:${await freePort()}/api/v1/write`,
  };
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.kill()));
  await admin?.disconnect();
  redis?.disconnect();
  console.log(`[shutdown] exit after signal: ${Object.entries(exitTimes).map(([s, ms]) => `${s} ${ms} ms`).join(', ')}`);
});

describe('sluice run on SIGTERM and SIGINT', () => {
  it('SIGTERM: exits 0 within 10 s after committing every record read and writing a last checkpoint', async () => {
    const sluice = start('sigterm');
    await sluice.ready();
    const inTopic = { pipeline, topic };

    // Windows 0 and 1.
    await produce(kafka, topic, [...batch(0), ...batch(1)]);
    const records = 2 * PARTITIONS * PER_PARTITION;
    expect(await sluice.metricUntil('sluice_records_in_total', inTopic, (n) => n >= records)).toBe(records);
    const before = await sourceOffsets();
    expect(before.end).toEqual(Array(PARTITIONS).fill(2 * PER_PARTITION));
    // Stage 1 may have committed the first batch it read at once (its first flush is due at once);
    // what arrived after that stays uncommitted until the signal (flush_interval: 1h).
    expect(await checkpointOffsets()).toEqual(Array(PARTIALS_PARTITIONS).fill(-1));

    await stopAndCheck(sluice, 'SIGTERM');

    const after = await committedUpToEnd();
    expect(after.committed).toEqual(after.end);
    checkpointsAfterSigterm = await checkpointOffsets();
    // Before the signal there were none (−1); stage 1 commits only now, so stage 2 had read nothing yet (offset 0).
    expect(checkpointsAfterSigterm.every((o) => o >= 0), `checkpoints ${checkpointsAfterSigterm}`).toBe(true);
  });

  it('SIGINT: a restart reads only what is new, and stops the same way', async () => {
    expect(checkpointsAfterSigterm.length).toBe(PARTIALS_PARTITIONS);
    const sluice = start('sigint');
    await sluice.ready();
    const inTopic = { pipeline, topic };

    await produce(kafka, topic, batch(2));
    const records = PARTITIONS * PER_PARTITION;
    expect(await sluice.metricUntil('sluice_records_in_total', inTopic, (n) => n >= records)).toBe(records);
    // Window 0 closes on window 1's watermarks, which only the SIGTERM's last transaction carried:
    // every acme record of window 0 reaches acme's Prometheus, none lost.
    const window0End = (base + WINDOW_MS) / 1000;
    await sluice.metricUntil('sluice_remote_write_highest_sent_timestamp_seconds', { tenant: 'acme' }, (t) => t >= window0End);
    const acme = stack.prometheus.acme!.url;
    const window0 = await eventually(
      async () => (await queryInstant(acme, 'sum(sd_requests_total)', window0End))[0]?.value,
      (v) => v === PARTITIONS * (PER_PARTITION / 2),
      30_000,
    );
    expect(window0).toBe(PARTITIONS * (PER_PARTITION / 2));
    // Nothing of windows 0 and 1 was read again: the SIGTERM committed their offsets.
    expect(await sluice.metric('sluice_records_in_total', inTopic)).toBe(records);
    // No periodic checkpoint yet (1 h interval): still the SIGTERM's.
    expect(await checkpointOffsets()).toEqual(checkpointsAfterSigterm);

    await stopAndCheck(sluice, 'SIGINT');

    const after = await committedUpToEnd();
    expect(after.end).toEqual(Array(PARTITIONS).fill(3 * PER_PARTITION));
    expect(after.committed).toEqual(after.end);
    // Stage 2 has read new markers since the SIGTERM's checkpoint (this run's first flush, or the
    // SIGTERM's last transaction): only the SIGINT's last checkpoint can have stored them.
    const checkpoints = await checkpointOffsets();
    expect(checkpoints.every((o, p) => o > checkpointsAfterSigterm[p]!), `checkpoints ${checkpoints}, after SIGTERM ${checkpointsAfterSigterm}`).toBe(true);
  });

  it('SIGTERM while the state backend is down and partitions wait for their checkpoint: exits 0 within 10 s', async () => {
    // Its own pipeline and its own redis-server, stopped before sluice starts: every stage-2
    // partition keeps retrying to load its checkpoint when the signal comes.
    const other = `${pipeline}-redis-down`;
    await createTopic(kafka, `${other}.in`, PARTITIONS);
    const redisDown = await startRedis({ dir: join(dir, 'redis-down'), logFile: join(dir, 'redis-down.log') });
    await redisDown.stop();
    try {
      const sluice = start('redis-down', { SD_PIPELINE: other, SD_TOPIC: `${other}.in`, SLUICE_REDIS_URL: redisDown.url });
      await sluice.ready();
      const retrying = await eventually(async () => sluice.log().includes('cannot load checkpoint'), Boolean, 30_000, 250);
      expect(retrying, sluice.tail()).toBe(true);
      await stopAndCheck(sluice, 'SIGTERM');
    } finally {
      await redisDown.stop();
    }
  });

  it('Kafka unreachable at start: waits past kafkajs giving up instead of exiting, then SIGTERM exits 0 within 10 s', async () => {
    // No broker listens on that port. kafkajs gives up on a connection after ~8 s of its own
    // retries; before, `sluice run` then exited 1 ("could not start"). It must keep waiting.
    const sluice = start('kafka-unreachable', { SD_PIPELINE: `${pipeline}-no-kafka`, SLUICE_KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
    const waiting = await eventually(async () => sluice.log().includes('Kafka cannot be reached'), Boolean, 30_000, 250);
    expect(waiting, sluice.tail()).toBe(true);
    // That line comes once kafkajs has given up the first time; the process must still be running after it.
    expect(await Promise.race([sluice.exited, sleep(3_000).then(() => 'running')]), sluice.tail()).toBe('running');
    expect(sluice.log()).not.toContain('could not start');
    await stopAndCheck(sluice, 'SIGTERM', { kafkajsRetryPending: true });
  });
});
