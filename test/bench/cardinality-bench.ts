/**
 * The cardinality run of `npm run bench`: a label flood against the series budget. Two runs of
 * the gateway pipeline (each in its own process, on its own topic), both with the same live
 * traffic of one normal tenant (`acme`, event time = wall clock):
 *   baseline  acme only
 *   flood     acme, and `initech` sending N calls (default 200,000), each with an `error_code`
 *             never seen before, spread over the run
 * It prints each run's peak RSS (goal: under 1 GiB with the flood) and how long after its end each
 * acme window reached acme's Prometheus (goal: the flood adds at most 10 %).
 *
 * Also per run: stage 2's checkpoints (count, bytes and time per checkpoint) and the event loop's
 * delay (how long it was blocked at worst). Checkpoints go to Redis, as in production, unless
 * `--state memory`.
 *
 *   node --import tsx test/bench/cardinality-bench.ts [--distinct 200000] [--seconds 180] [--rate 300] [--budget N] [--state redis|memory]
 */
import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startStack, type Stack } from '../stack/index.ts';
import { floodLogs, type GatewayVariant } from '../support/cardinality.ts';
import { generateGatewayLogs, type GatewayCallLog } from '../support/gateway-traffic.ts';

const PARTITIONS = 3;
const WINDOW_MS = 10_000;
/** Windows this soon after the start are warm-up (JIT, first series, Prometheus' first writes). */
const WARMUP_MS = 20_000;
/** After the traffic ends: long enough for the last windows to close by idleness and be sent. */
const DRAIN_MS = 20_000;
const TICK_MS = 100;

const { values } = parseArgs({
  options: {
    distinct: { type: 'string', default: '200000' },
    seconds: { type: 'string', default: '180' },
    rate: { type: 'string', default: '300' },
    // The flooding tenant's limits.max_state_series; default: the schema's.
    budget: { type: 'string' },
    state: { type: 'string', default: 'redis' },
    // A look inside one run (with BENCH_PHASE_NODE_ARGS): 'flood' or 'baseline' alone, no comparison.
    only: { type: 'string' },
  },
});
const distinct = Number(values.distinct);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const budget = values.budget === undefined ? undefined : Number(values.budget);
const redisState = values.state !== 'memory';
const say = (line: string) => process.stdout.write(`${line}\n`);

interface RunResult {
  readonly maxRssMiB: number;
  readonly folded: number;
  /** Per acme window in the measured span: wall time of delivery minus window end, ms. */
  readonly delaysMs: number[];
  readonly undelivered: number;
  /** Most a record was produced after its event time (the producer keeping up). */
  readonly producerLagMs: number;
  readonly inputMiB: number;
  readonly checkpoints: { count: number; seconds: number; bytes: number };
  readonly loop: { p50Ms: number; p99Ms: number; maxMs: number };
}

const stack = await startStack({ runDir: join(tmpdir(), 'sluice-bench-cardinality'), tenants: ['acme', 'initech'], redis: redisState });
try {
  say(
    `cardinality: acme ${rate} calls/s for ${seconds} s; flood run adds ${distinct.toLocaleString('en-US')} distinct error_code values ` +
      `for initech (limits.max_state_series ${budget?.toLocaleString('en-US') ?? 'default'}); checkpoints in ${redisState ? 'Redis' : 'memory'}`,
  );
  const runs: [string, RunResult][] = [];
  if (values.only !== 'baseline') runs.push(['flood', await run(stack, 'flood', distinct)]);
  if (values.only !== 'flood') runs.unshift(['baseline', await run(stack, 'baseline', 0)]);
  say('');
  for (const [name, r] of runs) {
    say(
      `${name.padEnd(8)}: peak RSS ${r.maxRssMiB} MiB; acme delivery delay mean ${secs(mean(r.delaysMs))} s, ` +
        `p50 ${secs(quantile(r.delaysMs, 0.5))} s, max ${secs(Math.max(...r.delaysMs))} s over ${r.delaysMs.length} windows` +
        `${r.undelivered > 0 ? `, ${r.undelivered} NOT delivered` : ''}; input ${r.inputMiB.toFixed(1)} MiB; ` +
        `producer lag ≤ ${secs(r.producerLagMs)} s; partials folded ${r.folded.toLocaleString('en-US')}`,
    );
    const { count, seconds: checkpointSeconds, bytes } = r.checkpoints;
    say(
      `${''.padEnd(8)}  ${count} checkpoints, mean ${kib(bytes / Math.max(1, count))} KiB and ${((1000 * checkpointSeconds) / Math.max(1, count)).toFixed(1)} ms each ` +
        `(${(bytes / 2 ** 20).toFixed(1)} MiB in all); event loop delay p50 ${r.loop.p50Ms.toFixed(0)} ms, p99 ${r.loop.p99Ms.toFixed(0)} ms, max ${r.loop.maxMs.toFixed(0)} ms`,
    );
  }
  const [baseline, flood] = [runs.find(([name]) => name === 'baseline')?.[1], runs.find(([name]) => name === 'flood')?.[1]];
  if (baseline && flood) {
    const ratio = mean(flood.delaysMs) / mean(baseline.delaysMs);
    const rssOk = flood.maxRssMiB < 1024;
    say(`peak RSS with the flood: ${flood.maxRssMiB} MiB (goal < 1024 MiB) ${rssOk ? 'OK' : 'OVER'}`);
    say(`acme delivery delay, flood / baseline (mean): ${ratio.toFixed(2)} (goal ≤ 1.10) ${ratio <= 1.1 ? 'OK' : 'OVER'}`);
    if (!rssOk || flood.undelivered > 0 || baseline.undelivered > 0) process.exitCode = 1;
  }
} finally {
  await stack.stop();
}

async function run(stack: Stack, name: string, floodCount: number): Promise<RunResult> {
  const topic = `cardinality.${name}.logs`;
  const kafka = new Kafka({ clientId: `bench-cardinality-${name}`, brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();

  const variant: GatewayVariant = {
    name: `cardinality-${name}`,
    topic,
    brokers: stack.kafka.brokers,
    tenants: {
      acme: { url: stack.prometheus.acme!.remoteWriteUrl },
      initech: { url: stack.prometheus.initech!.remoteWriteUrl, ...(budget === undefined ? {} : { limits: { max_state_series: budget } }) },
    },
    ...(stack.redis ? { redisUrl: stack.redis.url } : {}),
  };
  // BENCH_PHASE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to look inside a run.
  const nodeArgs = process.env.BENCH_PHASE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', fileURLToPath(new URL('./cardinality-phase.ts', import.meta.url))], {
    env: { ...process.env, BENCH_VARIANT: JSON.stringify(variant), BENCH_WATCHED_TENANT: 'acme', SLUICE_LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done === true) throw new Error(`the ${name} run's process ended early`);
    return line.value;
  };
  while ((await next()) !== 'ready');

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const startMs = Math.ceil(Date.now() / WINDOW_MS) * WINDOW_MS;
  const endMs = startMs + seconds * 1_000;
  const traffic = [
    generateGatewayLogs({ seed: 5, tenants: ['acme'], startMs, spanMs: seconds * 1_000, count: rate * seconds }),
    floodLogs('initech', startMs, seconds * 1_000, floodCount),
  ];
  const { producerLagMs, bytes } = await produceLive(producer, topic, traffic);
  await producer.disconnect();
  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));

  child.stdin!.write('end\n');
  const report = JSON.parse(await next()) as { deliveredAt: [number, number][]; maxRssMiB: number; folded: number; checkpoints: RunResult['checkpoints']; loop: RunResult['loop'] };
  await new Promise((resolve) => child.once('exit', resolve));
  const delivered = new Map(report.deliveredAt);
  const delaysMs: number[] = [];
  let undelivered = 0;
  for (let w = startMs + WARMUP_MS; w <= endMs; w += WINDOW_MS) {
    const at = delivered.get(w);
    if (at === undefined) undelivered++;
    else delaysMs.push(at - w);
  }
  return { maxRssMiB: report.maxRssMiB, folded: report.folded, delaysMs, undelivered, producerLagMs, inputMiB: bytes / 2 ** 20, checkpoints: report.checkpoints, loop: report.loop };
}

/** Sends each record once the wall clock reaches its event time, round-robin over the partitions. */
async function produceLive(producer: Producer, topic: string, sources: Iterator<GatewayCallLog>[]): Promise<{ producerLagMs: number; bytes: number }> {
  const heads = sources.map((s) => s.next());
  let partition = 0;
  let producerLagMs = 0;
  let bytes = 0;
  while (heads.some((h) => h.done !== true)) {
    const now = Date.now();
    const messages: { value: string; partition: number }[] = [];
    heads.forEach((head, i) => {
      while (head.done !== true && head.value.timestamp <= now) {
        const value = JSON.stringify(head.value);
        bytes += value.length;
        producerLagMs = Math.max(producerLagMs, now - head.value.timestamp);
        messages.push({ value, partition: partition++ % PARTITIONS });
        head = heads[i] = sources[i]!.next();
      }
    });
    // ~400 B a record: 1,000 a request stays well under the broker's 1 MB message batch bound.
    for (let i = 0; i < messages.length; i += 1_000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000) });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, TICK_MS - (Date.now() - now))));
  }
  return { producerLagMs, bytes };
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

function secs(ms: number): string {
  return (ms / 1000).toFixed(2);
}
