import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Kafka } from 'kafkajs';
import type { Stack } from '../stack/index.ts';
import { generateGatewayLogs } from '../support/gateway-traffic.ts';

/** What the phase benches share: the gateway-log topic they read, and running one phase (phase.ts) in a process of its own. */

export const BENCH_TENANTS = ['acme', 'globex', 'initech'] as const;
export const BENCH_TOPIC = 'bailian.gateway.logs';
const PARTITIONS = 3;

export interface FilledTopic {
  /** Per tenant, the generator's own counts: what the pipeline's totals must equal. */
  readonly expected: Map<string, { requests: number; inputTokens: number }>;
  readonly bytes: number;
  readonly lastTimestamp: number;
}

/** Creates the topic and fills it with `records` gateway logs: ten minutes of traffic ending a minute ago (recent enough for Prometheus to accept). */
export async function fillGatewayTopic(kafka: Kafka, records: number): Promise<FilledTopic> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: BENCH_TOPIC, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const start = Date.now() - 11 * 60_000;
  const expected = new Map<string, { requests: number; inputTokens: number }>(BENCH_TENANTS.map((t) => [t, { requests: 0, inputTokens: 0 }]));
  let bytes = 0;
  let lastTimestamp = 0;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let batch: { value: string; partition: number }[] = [];
  let i = 0;
  for (const record of generateGatewayLogs({ seed: 42, tenants: BENCH_TENANTS, startMs: start, spanMs: 10 * 60_000, count: records })) {
    const value = JSON.stringify(record);
    bytes += value.length;
    lastTimestamp = record.timestamp;
    const totals = expected.get(record.tenant_id)!;
    totals.requests++;
    totals.inputTokens += record.input_tokens;
    batch.push({ value, partition: i++ % PARTITIONS });
    if (batch.length === 1_500) {
      // One send at a time: concurrent sends may reach a partition out of order.
      await producer.send({ topic: BENCH_TOPIC, acks: -1, messages: batch });
      batch = [];
    }
  }
  if (batch.length > 0) await producer.send({ topic: BENCH_TOPIC, acks: -1, messages: batch });
  await producer.disconnect();
  return { expected, bytes, lastTimestamp };
}

/** The environment every phase process runs with: the stack's addresses, the topic and its size, a short idle timeout. */
export function phaseEnvironment(stack: Stack, records: number, lastTimestamp: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    BENCH_BROKERS: stack.kafka.brokers.join(','),
    BENCH_TOPIC,
    BENCH_RECORDS: String(records),
    BENCH_LAST_EVENT_MS: String(lastTimestamp),
    SLUICE_KAFKA_BROKERS: stack.kafka.brokers.join(','),
    SLUICE_IDLE_TIMEOUT: '1s',
    SLUICE_LOG_LEVEL: 'warn',
    ...Object.fromEntries(BENCH_TENANTS.map((t) => [`SLUICE_TENANT_${t.toUpperCase()}_URL`, stack.prometheus[t]!.remoteWriteUrl])),
  };
}

/** A phase's CPU over a stretch of its records, and its split by thread. */
export interface CpuOverRecords {
  records: number;
  cpuSeconds: number;
  threads?: { main: number; other: number };
}

/** One phase's report (phase.ts prints it as its last line). */
export interface PhaseResult {
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  /** cpuSeconds split by thread (Linux): the main thread's and all others'. */
  threads?: { main: number; other: number };
  /** CPU over the middle half of the records (phase.ts's MiddleHalf): the steady state. */
  steady?: CpuOverRecords;
  /** CPU from the first record to the middle half's start (the warm-up); the rest of cpuSeconds is the last quarter and the close. */
  firstQuarter?: CpuOverRecords;
  /** The pipeline's close: from every record in to all output delivered (the final windows, their samples). */
  close?: { seconds: number; cpuSeconds: number; threads?: { main: number; other: number } };
  endToEndSeconds?: number;
  /** Records this process read (the pipeline: its `sluice_records_in_total`; an instance of a separate run, its share). */
  consumed?: number;
  samplesSent?: number;
  deadLetters?: string[];
  failed?: string[];
  windowLatency?: { count: number; p50Ms: number; p99Ms: number };
}

/**
 * Runs phase.ts's `phase` in a node process of its own, with `nodeArgs` before the script; with
 * `checkout`, the phase.ts of that other working tree of the repository (its code, this topic).
 */
export async function runPhase(phase: string, env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = [], checkout?: string): Promise<PhaseResult> {
  const script = checkout === undefined ? fileURLToPath(new URL('./phase.ts', import.meta.url)) : join(checkout, 'test/bench/phase.ts');
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, '--import', 'tsx', script, phase], {
    env,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 20 * 60_000,
  });
  // BENCH_PHASE_STDOUT=<prefix>: each phase's whole output kept (a `--trace-gc` run's, say), as <prefix>.<n>.log.
  const keep = process.env.BENCH_PHASE_STDOUT;
  if (keep) writeFileSync(`${keep}.${keptOutputs++}.log`, stdout);
  return JSON.parse(stdout.trim().split('\n').pop()!) as PhaseResult;
}

let keptOutputs = 0;
