/**
 * kafkajs against @platformatic/kafka on the same topic and broker (issue 12's last direction):
 * MEASURES, replaces nothing. Starts the project's own Kafka (KRaft, loopback, free port; stopped at
 * the end), fills a 3-partition topic with N gateway logs (the pipeline bench's generator and
 * seed), then runs each contender in a child process of its own, alternating, --rounds times:
 *
 *   (a) kafkajs consumer group + JSON.parse: the pipeline bench's own bare phase (phase.ts bare)
 *   (b) @platformatic/kafka consumer group + JSON.parse, read_committed, the same fetch sizes as
 *       kafkajs's defaults (10 MiB per fetch, 1 MiB per partition)
 *   (b') (b) in KIP-848's `consumer` group protocol instead of the classic one
 *   (c) kafkajs transactional produce of N records, --txn-batch records per transaction
 *   (d) @platformatic/kafka transactional produce, the same
 *   (e) (d) with a 20 ms retryDelay instead of its default 1 s
 *
 * and prints each run's records/s, CPU-s per 1M records (the child's user + system CPU from its
 * first record, or first transaction, to its last) and the child's peak RSS. The produce runs send
 * the first min(N, 20k) gateway logs over and over (built before the measured part, so neither the
 * generator nor 500 MiB of values is measured), one transaction at a time, explicit partitions
 * round robin, acks=all, no offsets in the transaction (only produce + commit).
 *
 * Last, a read_committed probe (a feature check, printed, not counted): two aborted transactions
 * then a committed one, read in 16 KiB fetches by both clients; records of aborted transactions
 * delivered: patched kafkajs 0, @platformatic/kafka 1.35.0 390 of 400.
 *
 * Exits 1 when any count differs: every consume run must see exactly N records with the generator's
 * input-token sum; every produce run's topic, read back read_committed, exactly N records and the
 * bytes sent, and its partition ends exactly N + one commit marker per partition per transaction.
 *
 *   node --import tsx test/bench/kafka-client-bench.ts [--records 1000000] [--rounds 2] [--txn-batch 3000]
 *   BENCH_CHILD_NODE_ARGS=--cpu-prof node --import tsx test/bench/kafka-client-bench.ts   (profiles each run)
 *
 * About 10 minutes at 1M on the shared 2-core machine, so not part of `npm run bench`. Three full
 * runs (1M, 2 rounds, load 3–13), CPU-s per 1M: consume kafkajs 2.2.4 8.25–9.01, 6.25–6.40 and
 * 7.32–7.91, @platformatic/kafka 1.35.0 11.12–12.58, 9.16–10.15 and 10.09–11.50 (KIP-848 protocol
 * 9.71, 10.21–10.92); transactional produce kafkajs 22.77–23.62, 17.04–20.97 and 19.43–21.80,
 * @platformatic/kafka 8.15–9.09, 7.72–7.79 and 7.09–9.61, at 10k–20k records/s against kafkajs's
 * 17k–32k (its 1 s retryDelay), 43k–62k with 20 ms.
 */
import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Consumer, FetchIsolationLevels, MessagesStreamModes, ProduceAcks, Producer } from '@platformatic/kafka';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { startStack } from '../stack/index.ts';
import { generateGatewayLogs } from '../support/gateway-traffic.ts';

const TENANTS = ['acme', 'globex', 'initech'] as const;
const PARTITIONS = 3;
const SEED = 42;
const POOL_SIZE = 20_000;
/** Longest any one child may take: a stuck client fails the bench instead of hanging it. */
const CHILD_TIMEOUT_MS = 10 * 60_000;
const MiB = 1024 * 1024;

interface RunResult {
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  /** Consume runs: records seen and their input-token sum. */
  consumed?: number;
  checksum?: number;
  /** Produce runs: records and value bytes in committed transactions. */
  produced?: number;
  bytes?: number;
  /** @platformatic/kafka: requests it retried (after its retryDelay), by operation. */
  retries?: Record<string, number>;
}

/** The gateway logs a produce run sends, as JSON: the same for every run and for the check. */
function valuePool(records: number): Buffer[] {
  const start = Date.UTC(2026, 0, 1);
  const logs = generateGatewayLogs({ seed: SEED, tenants: TENANTS, startMs: start, spanMs: 10 * 60_000, count: Math.min(records, POOL_SIZE) });
  return Array.from(logs, (log) => Buffer.from(JSON.stringify(log)));
}

/** Bytes of the values a produce run of `records` sends (the pool, cycled). */
function poolBytes(pool: Buffer[], records: number): number {
  let bytes = 0;
  for (let i = 0; i < records; i++) bytes += pool[i % pool.length]!.length;
  return bytes;
}

function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(from);
  return (user + system) / 1e6;
}

function maxRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

// ---- child processes: one measured run each; print one JSON line ----

interface ChildEnv {
  brokers: string[];
  topic: string;
  records: number;
  txnBatch: number;
}

function childEnv(): ChildEnv {
  return {
    brokers: process.env.BENCH_BROKERS!.split(','),
    topic: process.env.BENCH_TOPIC!,
    records: Number(process.env.BENCH_RECORDS),
    txnBatch: Number(process.env.BENCH_TXN_BATCH),
  };
}

/**
 * (b): every record through the messages stream, parsed as the bare phase parses it; in the
 * classic group protocol (JoinGroup/SyncGroup, as kafkajs) or KIP-848's `consumer` protocol.
 */
async function platformaticConsume({ brokers, topic, records }: ChildEnv, groupProtocol: 'classic' | 'consumer'): Promise<RunResult> {
  const consumer = new Consumer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: brokers,
    groupId: `bench-platformatic-${Date.now()}`,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    maxBytes: 10 * MiB,
    maxBytesPerPartition: MiB,
    ...(groupProtocol === 'consumer' ? { groupProtocol } : {}),
  });
  const started = performance.now();
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
  let consumed = 0;
  let checksum = 0;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', (message) => {
      cpuAtFirst ??= process.cpuUsage();
      const record = JSON.parse(message.value.toString('utf8')) as { input_tokens: number };
      checksum += record.input_tokens;
      if (++consumed === records) resolve();
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsSince(cpuAtFirst!);
  await stream.close();
  await consumer.close(true);
  // Counted up to the close: a record delivered twice shows as more than `records`.
  return { seconds, cpuSeconds, maxRssMiB: maxRssMiB(), consumed, checksum };
}

/** Sends `records` values of the pool in transactions of `txnBatch`, one at a time, through `commitOne`. */
async function produceInTransactions(
  { records, txnBatch }: ChildEnv,
  commitOne: (batch: { value: Buffer; partition: number }[]) => Promise<void>,
): Promise<RunResult> {
  const pool = valuePool(records);
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  let bytes = 0;
  for (let sent = 0; sent < records; ) {
    const batch: { value: Buffer; partition: number }[] = [];
    for (let i = sent; i < Math.min(records, sent + txnBatch); i++) {
      const value = pool[i % pool.length]!;
      bytes += value.length;
      batch.push({ value, partition: i % PARTITIONS });
    }
    await commitOne(batch);
    sent += batch.length;
  }
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSince(cpuAtStart), maxRssMiB: maxRssMiB(), produced: records, bytes };
}

/** (c): kafkajs's transactional producer, configured as the project's (kafkajs-client.ts). */
async function kafkajsTransactions(env: ChildEnv): Promise<RunResult> {
  const kafka = new Kafka({ clientId: 'bench-kafkajs-txn', brokers: env.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId: `bench-kafkajs-${process.pid}`, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const result = await produceInTransactions(env, async (messages) => {
    const transaction = await producer.transaction();
    await transaction.send({ topic: env.topic, acks: -1, messages });
    await transaction.commit();
  });
  await producer.disconnect();
  return result;
}

/**
 * (d): @platformatic/kafka's transactions (beginTransaction / send / commit). Back to back, the
 * next transaction's AddPartitionsToTxn often meets CONCURRENT_TRANSACTIONS while the broker still
 * writes the last one's markers; the client waits `retryDelay` (default 1 s) before it retries,
 * where the Java producer waits 20 ms (TransactionManager's ADD_PARTITIONS_RETRY_BACKOFF_MS). (e)
 * runs the same with that 20 ms.
 */
async function platformaticTransactions(env: ChildEnv, retryDelay: number | undefined): Promise<RunResult> {
  const producer = new Producer({
    ...(retryDelay === undefined ? {} : { retryDelay }),
    clientId: 'bench-platformatic-txn',
    bootstrapBrokers: env.brokers,
    transactionalId: `bench-platformatic-${process.pid}`,
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
  });
  const retries: Record<string, number> = {};
  producer.on('client:performWithRetry:retry', (operation: string) => {
    retries[operation] = (retries[operation] ?? 0) + 1;
  });
  const result = await produceInTransactions(env, async (batch) => {
    const transaction = await producer.beginTransaction();
    await transaction.send({ messages: batch.map((m) => ({ topic: env.topic, ...m })) });
    await transaction.commit();
  });
  await producer.close();
  return { ...result, retries };
}

const CHILD_RUNS: Record<string, (env: ChildEnv) => Promise<RunResult>> = {
  'platformatic-consume': (env) => platformaticConsume(env, 'classic'),
  'platformatic-consume-kip848': (env) => platformaticConsume(env, 'consumer'),
  'kafkajs-txn': kafkajsTransactions,
  'platformatic-txn': (env) => platformaticTransactions(env, undefined),
  'platformatic-txn-20ms': (env) => platformaticTransactions(env, 20),
};

// ---- the parent: stack, fill, alternating runs, checks, table ----

interface Contender {
  label: string;
  kind: 'consume' | 'produce';
  /** Node arguments after `node --import tsx`. */
  script: string[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { records: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '2' }, 'txn-batch': { type: 'string', default: '3000' } },
  });
  const records = Number(values.records);
  const rounds = Number(values.rounds);
  const txnBatch = Number(values['txn-batch']);
  if (!(records >= PARTITIONS && rounds >= 1 && txnBatch >= PARTITIONS)) throw new Error('--records and --txn-batch must be at least 3, --rounds at least 1');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const kafkajsVersion = packageVersion('kafkajs');
  const platformaticVersion = packageVersion('@platformatic/kafka');
  const self = fileURLToPath(import.meta.url);
  const phase = fileURLToPath(new URL('./phase.ts', import.meta.url));
  const contenders: Contender[] = [
    { label: `(a) kafkajs ${kafkajsVersion} consume + JSON.parse`, kind: 'consume', script: [phase, 'bare'] },
    { label: `(b) platformatic ${platformaticVersion} consume + JSON.parse`, kind: 'consume', script: [self, '--child', 'platformatic-consume'] },
    { label: "(b') (b) in KIP-848's consumer group protocol", kind: 'consume', script: [self, '--child', 'platformatic-consume-kip848'] },
    { label: `(c) kafkajs ${kafkajsVersion} transactional produce`, kind: 'produce', script: [self, '--child', 'kafkajs-txn'] },
    { label: `(d) platformatic ${platformaticVersion} transactional produce`, kind: 'produce', script: [self, '--child', 'platformatic-txn'] },
    { label: '(e) (d) with retryDelay 20 ms', kind: 'produce', script: [self, '--child', 'platformatic-txn-20ms'] },
  ];

  // A directory of its own: two benches at once must not share or stop one stack.
  const runDir = mkdtempSync(join(tmpdir(), 'sluice-kafka-client-bench-'));
  const stack = await startStack({ runDir, tenants: [], redis: false });
  let exact = true;
  try {
    const kafka = new Kafka({ clientId: 'bench-kafka-clients', brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const source = 'bench.gateway.logs';
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: source, numPartitions: PARTITIONS }] });
    const inputTokens = await fillSource(kafka, source, records, say);
    const pool = valuePool(records);
    const expectedBytes = poolBytes(pool, records);

    const results = new Map<Contender, RunResult[]>(contenders.map((c) => [c, []]));
    const env = { ...process.env, BENCH_BROKERS: stack.kafka.brokers.join(','), BENCH_RECORDS: String(records), BENCH_TXN_BATCH: String(txnBatch) };
    // Every produce run's topic up front: a create right after a delete can fail its leader wait
    // on a busy machine (UNKNOWN_TOPIC_OR_PARTITION from kafkajs's metadata retries).
    const produceTopic = (round: number, contender: Contender) => `bench.txn.${round}.${contenders.indexOf(contender)}`;
    const produceTopics = contenders.filter((c) => c.kind === 'produce').flatMap((c) => Array.from({ length: rounds }, (_, r) => produceTopic(r + 1, c)));
    await admin.createTopics({ waitForLeaders: true, topics: produceTopics.map((topic) => ({ topic, numPartitions: PARTITIONS })) });
    // Consumes alternate with each other, then produces with each other: a quiet or busy spell of
    // the shared machine falls on every client of a kind.
    for (const kind of ['consume', 'produce'] as const) {
      for (let round = 1; round <= rounds; round++) {
        for (const contender of contenders.filter((c) => c.kind === kind)) {
          const topic = kind === 'consume' ? source : produceTopic(round, contender);
          const result = await runChild(contender.script, { ...env, BENCH_TOPIC: topic });
          results.get(contender)!.push(result);
          const problems =
            kind === 'consume'
              ? countProblems({ consumed: result.consumed, checksum: result.checksum }, { consumed: records, checksum: inputTokens })
              : await producedProblems(kafka, topic, records, expectedBytes, commitMarkers(records, txnBatch));
          exact &&= problems.length === 0;
          const retried = Object.entries(result.retries ?? {}).map(([operation, count]) => `, retried ${operation} ×${count}`);
          say(
            `${contender.label}, round ${round}: ${fmt(records / result.seconds)} records/s, ${((result.cpuSeconds / records) * 1e6).toFixed(2)} CPU-s/1M, ` +
              `${result.maxRssMiB} MiB${retried.join('')} ${problems.length === 0 ? 'OK' : `MISMATCH: ${problems.join('; ')}`}`,
          );
          // Freed at once: a 500 MiB copy per run would otherwise sit in the broker's data dir.
          if (kind === 'produce') await admin.deleteTopics({ topics: [topic] });
        }
      }
    }
    printTable(say, results, records, txnBatch);
    const leaked = await readCommittedProbe(kafka, stack.kafka.brokers, admin);
    await admin.disconnect();
    say(
      `read_committed, ${PROBE_FETCH_BYTES / 1024} KiB fetches over 2 aborted transactions of one producer (${2 * PROBE_ABORTED_SENDS * 10} records) and a committed one: ` +
        `records of aborted transactions delivered by kafkajs (patched filter) ${leaked.kafkajs}, by @platformatic/kafka ${leaked.platformatic} (NaN: its committed records never came)`,
    );
  } finally {
    await stack.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
  if (!exact) {
    say('FAILED: a count differs (see MISMATCH above)');
    process.exitCode = 1;
  }
}

/** Fills `topic` as the pipeline bench does (idempotent kafkajs producer, 1,500 per send); returns the input-token sum. */
async function fillSource(kafka: Kafka, topic: string, records: number, say: (line: string) => void): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const started = performance.now();
  const start = Date.now() - 11 * 60_000;
  let inputTokens = 0;
  let pending: { value: string; partition: number }[] = [];
  let index = 0;
  for (const log of generateGatewayLogs({ seed: SEED, tenants: TENANTS, startMs: start, spanMs: 10 * 60_000, count: records })) {
    inputTokens += log.input_tokens;
    pending.push({ value: JSON.stringify(log), partition: index++ % PARTITIONS });
    if (pending.length === 1_500 || index === records) {
      await producer.send({ topic, acks: -1, messages: pending });
      pending = [];
    }
  }
  await producer.disconnect();
  say(`filled ${topic}: ${fmt(records)} gateway logs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return inputTokens;
}

/** Every field of `want` that `got` does not match, as "name got X, want Y". */
function countProblems(got: Record<string, number | undefined>, want: Record<string, number>): string[] {
  return Object.entries(want).flatMap(([name, value]) => (got[name] === value ? [] : [`${name} ${got[name]}, want ${value}`]));
}

/** Commit markers a produce run writes: one per partition a transaction wrote to. */
function commitMarkers(records: number, txnBatch: number): number {
  let markers = 0;
  for (let sent = 0; sent < records; sent += txnBatch) markers += Math.min(PARTITIONS, records - sent, txnBatch);
  return markers;
}

/** A produce run's topic read back read_committed by kafkajs, and its partition ends. */
async function producedProblems(kafka: Kafka, topic: string, records: number, bytes: number, markers: number): Promise<string[]> {
  const read = await readCommitted(kafka, topic, records);
  // kafkajs lists read_committed ends (the last stable offset): the last transaction's markers
  // are written after its commit returns, so the ends get up to 10 s to reach them.
  const admin = kafka.admin();
  await admin.connect();
  let offsets = 0;
  for (let waited = 0; waited <= 10_000; waited += 200) {
    offsets = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    if (offsets >= records + markers) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await admin.disconnect();
  return countProblems({ ...read, offsets }, { records, bytes, offsets: records + markers });
}

/** Records and value bytes of `topic`, read until `records` are in (or 5 minutes pass). */
async function readCommitted(kafka: Kafka, topic: string, records: number): Promise<{ records: number; bytes: number }> {
  const consumer = kafka.consumer({ groupId: `bench-check-${topic}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 5 * 60_000); // the count then shows what is missing
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) bytes += message.value?.length ?? 0;
          seen += batch.messages.length;
          if (seen >= records) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { records: seen, bytes };
}

const PROBE_FETCH_BYTES = 16 * 1024;
const PROBE_ABORTED_SENDS = 20;
const PROBE_COMMITTED = 10;

/**
 * A feature check, not a measurement: read_committed when a fetch holds records of an aborted
 * transaction but not its abort marker. One producer writes two aborted transactions (20 sends of
 * 10 records of ~1 KiB each) and then a committed one of 10 records; each client reads the topic
 * with 16 KiB per fetch. Returns the records of aborted transactions each delivered (right: 0).
 */
async function readCommittedProbe(kafka: Kafka, brokers: string[], admin: Admin): Promise<{ kafkajs: number; platformatic: number }> {
  const topic = 'bench.read-committed-probe';
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  const producer = kafka.producer({ transactionalId: 'bench-probe', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const padding = 'x'.repeat(1000);
  for (const outcome of ['aborted', 'aborted', 'committed'] as const) {
    const transaction = await producer.transaction();
    const sends = outcome === 'committed' ? 1 : PROBE_ABORTED_SENDS;
    for (let send = 0; send < sends; send++) {
      await transaction.send({ topic, acks: -1, messages: Array.from({ length: 10 }, () => ({ value: `${outcome} ${padding}` })) });
    }
    await (outcome === 'committed' ? transaction.commit() : transaction.abort());
  }
  await producer.disconnect();

  const viaKafkajs = kafka.consumer({ groupId: 'bench-probe-kafkajs', readUncommitted: false, maxBytes: PROBE_FETCH_BYTES, maxBytesPerPartition: PROBE_FETCH_BYTES });
  await viaKafkajs.connect();
  await viaKafkajs.subscribe({ topic, fromBeginning: true });
  const kafkajs = await abortedBeforeCommitted((onValue) => void viaKafkajs.run({ eachMessage: async ({ message }) => onValue(message.value!.toString()) }));
  await viaKafkajs.disconnect();

  const viaPlatformatic = new Consumer({ clientId: 'bench-probe', bootstrapBrokers: brokers, groupId: 'bench-probe-platformatic', maxBytes: PROBE_FETCH_BYTES, maxBytesPerPartition: PROBE_FETCH_BYTES });
  const stream = await viaPlatformatic.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
  const platformatic = await abortedBeforeCommitted((onValue) => stream.on('data', (message) => onValue(message.value.toString())));
  await stream.close();
  await viaPlatformatic.close(true);
  return { kafkajs, platformatic };
}

/** Records of aborted transactions delivered before all committed ones (they come after them); NaN after 30 s without. */
function abortedBeforeCommitted(start: (onValue: (value: string) => void) => void): Promise<number> {
  return new Promise((resolve) => {
    let aborted = 0;
    let committed = 0;
    const timer = setTimeout(() => resolve(Number.NaN), 30_000);
    start((value) => {
      if (value.startsWith('aborted')) aborted++;
      else if (++committed === PROBE_COMMITTED) {
        clearTimeout(timer);
        resolve(aborted);
      }
    });
  });
}

async function runChild(script: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const nodeArgs = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, '--import', 'tsx', ...script], { env, maxBuffer: 16 * MiB, timeout: CHILD_TIMEOUT_MS });
  return JSON.parse(stdout.trim().split('\n').pop()!) as RunResult;
}

function printTable(say: (line: string) => void, results: Map<Contender, RunResult[]>, records: number, txnBatch: number): void {
  const perMillion = (r: RunResult) => (r.cpuSeconds / records) * 1e6;
  const range = (runs: RunResult[], of: (r: RunResult) => number, digits: number) => {
    const all = runs.map(of);
    const [low, high] = [Math.min(...all), Math.max(...all)];
    const show = (v: number) => (digits === 0 ? fmt(v) : v.toFixed(digits));
    return low === high ? show(low) : `${show(low)}–${show(high)}`;
  };
  say('');
  say(`${fmt(records)} records of ${PARTITIONS} partitions; produce: ${fmt(txnBatch)} records per transaction; ranges over ${results.values().next().value!.length} runs each`);
  say(`${'contender'.padEnd(52)}${'records/s'.padStart(17)}${'CPU-s/1M'.padStart(15)}${'peak RSS MiB'.padStart(15)}`);
  for (const [contender, runs] of results) {
    say(
      `${contender.label.padEnd(52)}${range(runs, (r) => records / r.seconds, 0).padStart(17)}${range(runs, perMillion, 2).padStart(15)}${range(runs, (r) => r.maxRssMiB, 0).padStart(15)}`,
    );
  }
}

function packageVersion(name: string): string {
  const file = fileURLToPath(new URL(`../../node_modules/${name}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

if (process.argv[2] === '--child') {
  const run = CHILD_RUNS[process.argv[3]!];
  if (!run) throw new Error(`unknown child run ${process.argv[3]}`);
  process.stdout.write(`${JSON.stringify(await run(childEnv()))}\n`);
  process.exit(0);
} else {
  await main();
}
