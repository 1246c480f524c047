/**
 * `npm run bench`: throughput and memory of the gateway pipeline against a bare consume of the
 * same topic, measured in one run on the local real stack (ratios, because a 2-core machine is
 * noisy). Fills a topic with ≥ 1M gateway logs, runs each phase in its own process, prints for
 * each its records/s (from its first record to its last one read), CPU-seconds per 1M records
 * (process user + system CPU from its first record to all of its output delivered) and peak RSS,
 * the pipeline/bare ratios of all three, and checks the pipeline's totals in every tenant's
 * Prometheus against the generator's own counts (exit 1 when any differs). A third phase runs
 * the workload issue 12's goal was set on, the gateway pipeline's 11 cumulative metrics (the
 * shipped file has 21 since issue 10's scores), as run `issue12`, with its own row, ratios and
 * totals check. Issue 10's drift figure follows: the same workload with and without one drift
 * metric, two pairs whose runs go at the same time (four runs labelled apart), and what the drift
 * metric adds to CPU per record, the mean of the two pairs. The bare consume runs again last;
 * the ratios are to the mean of its two runs, and issue 12's is the mean of its two runs over
 * that: both means sit mid-run, so a machine whose speed drifts during the run moves both.
 *
 * Then, unless --skip-instances, the same topic once more by one instance and by two at once (stage
 * 1 on two cores; checkpoints in Redis), each run's totals checked too.
 *
 *   npm run bench [-- --records 1000000] [--skip-instances]
 *   BENCH_PHASE_NODE_ARGS=--cpu-prof node --import tsx test/bench/pipeline-bench.ts   (profiles each phase)
 *   BENCH_MEMORY_TRACE=/tmp/m [BENCH_HEAP_SNAPSHOT_MIB=320] ...   (memory over time per phase: phase.ts)
 *   BENCH_DRIFT_SAME=1 ...   (the drift runs without the drift metric: the drift figure's own noise.
 *     When the four runs went one after another (ABBA), once on a quiet machine: -11.2 %, pairs
 *     -13.2 and -9.3 %, its four identical phases 15.3-20.3 CPU-s per 1M; with the drift metric,
 *     bench run 57: +6.0 and +44.6 %, the second pair's run without it the phase's fastest. With
 *     each pair at the same time: -0.8 % (pairs +1.3 and -2.9 %, run 59); with the drift metric,
 *     runs 58 and 60-62: +7.8, +12.4, +9.9 and +4.1 %, pairs +2.1 to +18.3 %, median +5.8 %)
 *
 * Compare CPU per 1M records only between runs of the same --records: the ten minutes of traffic
 * always make the same windows and about the same series, so the pipeline's work per series and
 * window (partials, window firing, remote-write samples) is nearly fixed and spread over however
 * many records there are. Measured on the loaded 2-core machine, full gateway pipeline (21
 * metrics), one run each: 100k records 200–247 CPU-s/1M (0.73 partials-topic messages and 5.7
 * samples sent per record), 300k 131, 1M 62.1 (0.14 partials and 0.64 samples per record; bare
 * consume 9.9). The issue's 22–25 were 1M records, 11 metrics (before the drift, anomaly,
 * data-quality and quantile metrics), an unloaded machine (bare 6.5). Same 100k workload with the
 * 11 metrics, alternating runs: 85cedd6 (before issue 12's work) 197 and 214, this code 141, 150
 * and 122: no regression. The line "per record" prints both ratios.
 * At 1M records on a quiet machine, after batched binary partials, the sketch wire and windows sent
 * as they fire: 42.06 and 40.78 CPU-s per 1M (bare 10.36 and 10.06), ratio 4.06 and 4.05.
 *
 * The partials wire (issue 12: batches per stage-2 partition in a binary layout, src/codecs/partials/),
 * 300k records, alternating runs on the machine shared with other benches (load average 6–15):
 * before 139.7 and 142.6 CPU-s/1M (ratio to bare 11.6, 11.3), 0.455 and 0.432 partials-topic
 * messages and 125.6 and 119.1 B of their keys and values per record, peak RSS 465 and 449 MiB;
 * after 117.1 (raw float64s), 132.4 and 118.9 CPU-s/1M (ratio 9.5, 10.5, 8.8), 0.006–0.007
 * messages and 119.3 (raw float64s), 95.6 and 91.2 B (whole numbers as varints) per record, peak
 * RSS 452, 436 and 419 MiB. Totals exact in every run.
 *
 * Peak RSS (issue 12: pipeline ≤ 1.3× the bare consume's), 1M records, --skip-instances, pipeline /
 * bare MiB. Machine shared with other benches (load 8–13):
 *   before (views of packer buffers kept in the memory checkpoint store)  370/268 390/256 374/270 (1.38 1.52 1.39)
 *   entries copied                                                         337/266 363/267 350/261 361/272 354/265 (1.27–1.36)
 *   entries copied, pipeline phase under node --max-semi-space-size=8     340/268 347/266 337/264 341/269 (1.27–1.30)
 * Quieter (load 3–4), pairs in both orders (faster runs, higher peaks): entries copied 363/270 and
 * 371/267 (1.34, 1.39), 15.69 and 18.08 CPU-s per 1M, 51.7k and 54.7k records/s; with the flag
 * 342/267 and 360/268 (1.28, 1.34), 18.77 and 22.95 CPU-s per 1M, 43.5k and 34.5k records/s. The
 * flag costs CPU (+20–27 %) for ~15 MiB: not shipped (BENCH_PHASE_NODE_ARGS sets it for both phases).
 * Before / after, one quiet pair (load 2–4): 365/262 (1.39), 18.06 CPU-s per 1M (bare 5.64) against
 * 354/273 (1.30), 19.84 (bare 7.78): CPU ratio to bare 3.20 against 2.55.
 * Where the peak is (BENCH_MEMORY_TRACE): mostly at the final idle close, when every open window
 * fires at once (+14–22 MiB in 2–3 s: large-object space 1.3 → 7.7 MiB, old space +6–10 MiB).
 */
import '../../src/sources/kafka/kafkajs-read-committed.ts'; // before kafkajs: its read_committed filter, fixed
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { queryInstant, startStack } from '../stack/index.ts';
import { BENCH_TENANTS as TENANTS, BENCH_TOPIC as TOPIC, fillGatewayTopic, phaseEnvironment, runPhase as runPhaseProcess, type CpuOverRecords, type PhaseResult } from './gateway-topic.ts';
import { ISSUE10_DRIFT_METRIC } from './issue12-workload.ts';

const WINDOW_MS = 10_000;
/** BENCH_PHASE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": node's arguments for every phase process. */
const phaseNodeArgs = process.env.BENCH_PHASE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const runPhase = (phase: string, env: NodeJS.ProcessEnv) => runPhaseProcess(phase, env, phaseNodeArgs);

/**
 * BENCH_DRIFT_SAME=1: the two drift runs go without the drift metric, so all four ABBA phases are
 * the same workload: what the drift figure reads when drift adds nothing (the reading's own noise).
 */
const driftSame = process.env.BENCH_DRIFT_SAME !== undefined;
const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, 'skip-instances': { type: 'boolean', default: false } } });
const records = Number(values.records);
const say = (line: string) => process.stdout.write(`${line}\n`);

// A directory of its own: two benches at once (helpers, CI) must not share or stop one stack.
const runDir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
// With the instance comparison, Kafka's own 3 s before a new group's first rebalance (the test
// stack's is 0): two instances started together then share the topic from the first generation.
// Without it the first one to join took every partition, and the second one's partitions waited
// out a rebalance of the busy first one (~5 s here; 11 s while stage 1 joined after stage 2),
// long enough on a fast machine for the first to read all 1M records alone.
const stack = await startStack({ runDir, tenants: [...TENANTS], redis: !values['skip-instances'], ...(values['skip-instances'] ? {} : { groupInitialRebalanceDelayMs: 3_000 }) });
try {
  const kafka = new Kafka({ clientId: 'bench-fill', brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });
  const fillStarted = performance.now();
  const { expected, bytes, lastTimestamp } = await fillGatewayTopic(kafka, records);
  say(`filled ${TOPIC}: ${records.toLocaleString('en-US')} records, ${Math.round(bytes / records)} B average JSON, ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);

  const env = phaseEnvironment(stack, records, lastTimestamp);
  const bare = await runPhase('bare', env);
  const pipeline = await runPhase('pipeline', env);
  // The workload issue 12's goal was set on (11 metrics; the shipped file has 21 since issue 10): phase.ts.
  const issue12 = await runPhase('pipeline', { ...env, BENCH_WORKLOAD: 'issue12' });
  // Issue 10's "a pipeline with one drift metric": issue 12's workload with and without the
  // shipped input-tokens drift metric, two pairs, each pair's runs at the same time (each labelled
  // apart). Run one after another, the machine's speed moved between them by more than the 10 %
  // to be told (identical runs 15.3–20.3 CPU-s per 1M); at the same time both meet the same load.
  const driftPairs: { without: PhaseResult; withDrift: PhaseResult }[] = [];
  for (const suffix of ['', '-b']) {
    const [without, withDrift] = await Promise.all([
      runPhase('pipeline', { ...env, BENCH_WORKLOAD: 'issue12', BENCH_LABEL: `issue12-beside-drift${suffix}` }),
      runPhase('pipeline', { ...env, BENCH_WORKLOAD: 'issue12-drift', BENCH_LABEL: `issue12-drift${suffix}` }),
    ]);
    driftPairs.push({ without, withDrift });
  }
  const issue12Again = await runPhase('pipeline', { ...env, BENCH_WORKLOAD: 'issue12', BENCH_LABEL: 'issue12-b' });
  // The bare consume once more, last: the two bare runs frame the pipeline runs, so their mean
  // and the two issue-12 runs' mean sit at the same point of the run, and a machine that slows
  // down or speeds up during it moves both sides of issue 12's ratio alike.
  const bareAgain = await runPhase('bare', env);
  const perMillion = (phase: PhaseResult) => (phase.cpuSeconds / records) * 1e6;
  const bares = meanOf([bare, bareAgain]);
  say('');
  say(`${''.padEnd(35)}  records/s  CPU-s/1M  peak RSS MiB`);
  const line = (name: string, rate: number, cpu: number, rss: number) =>
    say(`${name.padEnd(35)}${fmt(rate).padStart(11)}${cpu.toFixed(2).padStart(10)}${String(Math.round(rss)).padStart(14)}`);
  const row = (name: string, phase: PhaseResult) => line(name, records / phase.seconds, perMillion(phase), phase.maxRssMiB);
  const ratioRow = (name: string, phase: PhaseResult) =>
    say(`${name.padEnd(35)}${(bares.seconds / phase.seconds).toFixed(2).padStart(11)}${(perMillion(phase) / perMillion(bares)).toFixed(2).padStart(10)}${(phase.maxRssMiB / bares.maxRssMiB).toFixed(2).padStart(14)}`);
  row('bare kafkajs consume + JSON.parse', bare);
  row('sluice pipeline → Prometheus', pipeline);
  row("issue 12's 11 metrics → Prometheus", issue12);
  driftPairs.forEach(({ without, withDrift }, i) => {
    row(`${i === 0 ? 'pair' : 'pair again'}: 11 metrics`, without);
    row(driftSame ? '  beside: the same (BENCH_DRIFT_SAME)' : '  beside: + one drift metric', withDrift);
  });
  row("issue 12's 11 metrics, again", issue12Again);
  row('bare consume, again', bareAgain);
  say('ratios to the mean of the two bare runs:');
  ratioRow('  pipeline / bare', pipeline);
  ratioRow("  issue 12's 11 metrics / bare", meanOf([issue12, issue12Again]));
  // Each drift run against the run beside it: what load the machine had, both had.
  const added = driftPairs.map(({ without, withDrift }) => perMillion(withDrift) / perMillion(without) - 1);
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} %`;
  say(`${driftSame ? 'the same workload (BENCH_DRIFT_SAME) reads' : 'one drift metric adds to the pipeline\'s CPU per record:'} ${pct((added[0]! + added[1]!) / 2)} (pairs ${added.map(pct).join(', ')}; issue 10's goal <= 10 %)`);
  // The other threads are V8's collector and compiler helpers and libuv's (thread-cpu.ts).
  const byThread = (phase: PhaseResult) =>
    phase.threads ? `${((phase.threads.main / records) * 1e6).toFixed(2)} / ${((phase.threads.other / records) * 1e6).toFixed(2)}` : 'n/a (no /proc)';
  say(`CPU-s per 1M, main thread / other threads: bare ${byThread(bares)}, pipeline ${byThread(pipeline)}, issue 12's 11 metrics ${byThread(meanOf([issue12, issue12Again]))}`);
  // Without the process's warm-up and the final close (phase.ts's MiddleHalf): what a long run sees.
  const steadyPerMillion = (runs: readonly PhaseResult[]) => meanPerMillion(runs, (run) => run.steady);
  const bareSteady = steadyPerMillion([bare, bareAgain]);
  const steadyOf = (name: string, runs: readonly PhaseResult[]) => {
    const cpu = steadyPerMillion(runs);
    return `${name} ${cpu.toFixed(2)} (${(cpu / bareSteady).toFixed(2)}x)`;
  };
  say(
    `steady state, CPU-s per 1M over the middle half of the records: bare ${bareSteady.toFixed(2)}, ${steadyOf('pipeline', [pipeline])}, ${steadyOf("issue 12's 11 metrics", [issue12, issue12Again])}` +
      ([bare, bareAgain, pipeline, issue12, issue12Again].some((run) => !run.steady) ? ' (NaN: a run saw no reading inside its middle half; too few records)' : ''),
  );
  // The warm-up (V8 compiling the hot paths): what a 1M-record run pays and a long-running pipeline spreads thin.
  const warmUpOf = (name: string, runs: readonly PhaseResult[]) => `${name} ${meanPerMillion(runs, (run) => run.firstQuarter).toFixed(2)}`;
  say(`first quarter of the records, CPU-s per 1M: ${warmUpOf('bare', [bare, bareAgain])}, ${warmUpOf('pipeline', [pipeline])}, ${warmUpOf("issue 12's 11 metrics", [issue12, issue12Again])}`);
  say(`end to end incl. final idle close : ${pipeline.endToEndSeconds!.toFixed(2)} s, ${fmt(pipeline.samplesSent!)} samples sent`);
  // What the pipeline's CPU per record depends on besides records: its work per series and window.
  const offsets = kafka.admin();
  await offsets.connect();
  const partialsTopicOffsets = await offsets.fetchTopicOffsets(`sluice.bailian-gateway.partials`);
  await offsets.disconnect();
  const partialsMessages = partialsTopicOffsets.reduce((sum, p) => sum + Number(p.high), 0);
  const volume = await topicVolume(kafka, `sluice.bailian-gateway.partials`, partialsTopicOffsets.map((p) => ({ partition: p.partition, high: Number(p.high) })));
  say(
    `per record: ${(partialsMessages / records).toFixed(3)} partials-topic messages (${fmt(partialsMessages)}: partials, watermark and transaction markers), ` +
      `${(volume.bytes / records).toFixed(1)} B of partials-topic keys and values (${fmt(volume.messages)} data messages, ${fmt(Math.round(volume.bytes / 1024))} KiB), ${(pipeline.samplesSent! / records).toFixed(3)} samples sent`,
  );
  const latency = pipeline.windowLatency!;
  say(`window close → queryable (acknowledged), over ${latency.count} tenant-windows: p50 ${fmtMs(latency.p50Ms)}, p99 ${fmtMs(latency.p99Ms)} (poll 50 ms)`);
  say(`dead letters: ${pipeline.deadLetters!.join(' ') || 'none'}; failed samples: ${pipeline.failed!.join(' ') || 'none'}`);

  let ok = await checkTotals('bench_run=""', '');
  for (const run of ['issue12', 'issue12-beside-drift', 'issue12-drift', 'issue12-beside-drift-b', 'issue12-drift-b', 'issue12-b']) ok = (await checkTotals(`bench_run="${run}"`, run)) && ok;
  for (const run of ['issue12-drift', 'issue12-drift-b']) ok = (await checkDriftScored(run)) && ok;

  /** A drift run's drift metric reached every tenant's Prometheus (its scores, not only its records, were computed). */
  async function checkDriftScored(run: string): Promise<boolean> {
    let scored = true;
    for (const tenant of TENANTS) {
      const series = (await queryInstant(stack.prometheus[tenant]!.url, `count(${ISSUE10_DRIFT_METRIC}{bench_run="${run}"})`, lastTimestamp / 1000))[0]?.value ?? 0;
      // BENCH_DRIFT_SAME runs them without the metric: then none may be there.
      const right = driftSame ? series === 0 : series > 0;
      scored &&= right;
      say(`check ${`${tenant} ${run}`.padEnd(15)}: ${series} drift series ${right ? 'OK' : driftSame ? 'UNEXPECTED' : 'MISSING'}`);
    }
    return scored;
  }

  /** A run's totals (its series: `matcher`), read back from each tenant's own Prometheus, against the generator's counts. */
  async function checkTotals(matcher: string, run: string): Promise<boolean> {
    const at = (Math.floor(lastTimestamp / WINDOW_MS) * WINDOW_MS + WINDOW_MS) / 1000;
    let exact = true;
    for (const tenant of TENANTS) {
      const url = stack.prometheus[tenant]!.url;
      const requests = (await queryInstant(url, `sum(bailian_gateway_requests_total{${matcher}})`, at))[0]?.value;
      const inputTokens = (await queryInstant(url, `sum(bailian_gateway_input_tokens_total{${matcher}})`, at))[0]?.value;
      const want = expected.get(tenant)!;
      const match = requests === want.requests && inputTokens === want.inputTokens;
      exact &&= match;
      say(`check ${`${tenant}${run ? ` ${run}` : ''}`.padEnd(15)}: requests ${requests} (want ${want.requests}), input tokens ${inputTokens} (want ${want.inputTokens}) ${match ? 'OK' : 'MISMATCH'}`);
    }
    return exact;
  }
  if (!values['skip-instances']) ok &&= await compareInstances(env);
  if (!ok) process.exitCode = 1;

  /**
   * Stage 1 on more than one core: the same topic read by one instance, then by two at once (a
   * consumer group each run; checkpoints in Redis so partitions move between instances exactly),
   * each run's totals checked under its own `bench_run` label. Records/s over the slower
   * instance's time; CPU summed over instances; peak RSS of the larger.
   */
  async function compareInstances(base: NodeJS.ProcessEnv): Promise<boolean> {
    const runEnv = (run: string, instances: number) => ({
      ...base,
      BENCH_RUN: run,
      BENCH_INSTANCES: String(instances),
      BENCH_REDIS_URL: stack.redis!.url,
      BENCH_BARRIER_DIR: mkdtempSync(join(runDir, `${run}-`)),
    });
    const one = [await runPhase('pipeline', runEnv('x1', 1))];
    const twoEnv = runEnv('x2', 2);
    const two = await Promise.all([runPhase('pipeline', twoEnv), runPhase('pipeline', twoEnv)]);
    say('');
    say(`${'instances (checkpoints in Redis)'.padEnd(35)}  records/s  CPU-s/1M  peak RSS MiB`);
    const rateOf = (run: PhaseResult[]) => records / Math.max(...run.map((r) => r.seconds));
    const cpuOf = (run: PhaseResult[]) => (run.reduce((sum, r) => sum + r.cpuSeconds, 0) / records) * 1e6;
    const rssOf = (run: PhaseResult[]) => Math.max(...run.map((r) => r.maxRssMiB));
    line('1 instance', rateOf(one), cpuOf(one), rssOf(one));
    line('2 instances, same group', rateOf(two), cpuOf(two), rssOf(two));
    // Whether the two shared the work: one that joins late finds its peer has read most records.
    say(`  records read by each of the two: ${two.map((r) => (r.consumed ?? 0).toLocaleString('en-US')).join(' and ')}`);
    say(`${'ratio 2 / 1'.padEnd(35)}${(rateOf(two) / rateOf(one)).toFixed(2).padStart(11)}${(cpuOf(two) / cpuOf(one)).toFixed(2).padStart(10)}${(rssOf(two) / rssOf(one)).toFixed(2).padStart(14)}`);
    let exact = true;
    for (const run of ['x1', 'x2']) exact = (await checkTotals(`bench_run="${run}"`, run)) && exact;
    return exact;
  }
} finally {
  await stack.stop();
  rmSync(runDir, { recursive: true, force: true });
}

/** Two runs of one phase as one: mean time, CPU and peak RSS. */
function meanOf(runs: readonly PhaseResult[]): PhaseResult {
  const mean = (pick: (run: PhaseResult) => number) => runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  const threads = runs.every((r) => r.threads) ? { main: mean((r) => r.threads!.main), other: mean((r) => r.threads!.other) } : undefined;
  return { seconds: mean((r) => r.seconds), cpuSeconds: mean((r) => r.cpuSeconds), maxRssMiB: mean((r) => r.maxRssMiB), threads };
}

/** The mean over runs of CPU-s per 1M records in one stretch of each run's records (NaN where a run has none). */
function meanPerMillion(runs: readonly PhaseResult[], stretch: (run: PhaseResult) => CpuOverRecords | undefined): number {
  return (
    runs.reduce((sum, run) => {
      const cpu = stretch(run);
      return sum + (cpu ? (cpu.cpuSeconds / cpu.records) * 1e6 : Number.NaN);
    }, 0) / runs.length
  );
}

function fmtMs(ms: number): string {
  return Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(2)} s`;
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Committed data messages of a topic and their key + value bytes, read up to the given ends. */
async function topicVolume(kafka: Kafka, topic: string, ends: { partition: number; high: number }[]): Promise<{ messages: number; bytes: number }> {
  const consumer = kafka.consumer({ groupId: `bench-volume-${Date.now()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const pending = new Set(ends.filter((e) => e.high > 0).map((e) => e.partition));
  let messages = 0;
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    if (pending.size === 0) return resolve();
    const timer = setTimeout(() => reject(new Error(`reading ${topic} took over 5 minutes`)), 300_000);
    void consumer
      .run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            messages++;
            bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
          }
          const end = ends.find((e) => e.partition === batch.partition)!.high;
          // Every partition ends in a transaction marker, never delivered: its last data message is one before.
          if (Number(batch.lastOffset()) + 2 >= end) pending.delete(batch.partition);
          if (pending.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return { messages, bytes };
}
