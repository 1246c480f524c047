/**
 * One measured phase of the benchmark, run in its own process so its peak RSS is its own:
 *   bare      kafkajs consumer group + JSON.parse of every message (the floor to compare with)
 *   pipeline  the shipped gateway pipeline, in process, to each tenant's real Prometheus
 * Prints one JSON line: { phase, records, seconds, cpuSeconds, threads?, endToEndSeconds?, windowLatency?, maxRssMiB }.
 * seconds runs from the first record to the last one read (a group's join before it is not counted);
 * cpuSeconds is the process's user + system CPU time from its first record to all of its output
 * delivered (the bare consume: its last record parsed; the pipeline: every sample acknowledged);
 * threads splits it into the main thread's and the other threads' (Linux only: thread-cpu.ts).
 *
 * With BENCH_RUN set, the pipeline phase is one instance of a separate run on the same topic (the
 * 1-vs-2-instances comparison): its own pipeline name, groups and partials topic, a `bench_run`
 * label on every sample (so its series do not collide with the main run's in Prometheus), and
 * checkpoints in Redis (BENCH_REDIS_URL: instances hand partitions over when the second joins).
 * Its records are in when the group has committed them all, and BENCH_INSTANCES instances leave
 * together (files in BENCH_BARRIER_DIR), so no instance's departure rebalances another's work.
 *
 * With BENCH_WORKLOAD=issue12, the pipeline phase runs the workload issue 12's figures were taken on:
 * the gateway pipeline's 11 `bailian_gateway_*` metrics, without the per-window scores (drift,
 * anomaly, data quality, quantiles) added to the shipped file since, as a separate run labelled
 * `bench_run="issue12"` (checkpoints in memory, like the main run).
 * BENCH_WORKLOAD=issue12-drift adds one drift metric to them, the shipped file's
 * `bailian_tenant_input_tokens_drift`: issue 10's "a pipeline with one drift metric". BENCH_LABEL
 * names the run (default: the workload), so a workload run twice keeps its series apart; set
 * without BENCH_WORKLOAD, it runs the shipped pipeline as a run of that name (phase-runs.ts's pairs).
 * BENCH_DRIFT_SAME leaves the drift metric out of issue12-drift (pipeline-bench.ts).
 */
// Before kafkajs: Sluice's kafkajs fixes (the read_committed filter, the consumer's Batch). The
// bare phase gets them as well: it runs in this script with Sluice's modules loaded, as when
// issue 12's figures were taken, so its peak RSS, the RSS goal's base, includes them (bench run
// 53's bare phase, kafkajs alone: 177 and 180 MiB; with Sluice's modules loaded: 264-276). The
// Batch's ~10 ns per record (kafkajs-batch.ts) is the bare's gain too: no lower CPU ratio for it.
import '../../src/sources/kafka/kafkajs-read-committed.ts';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { pino } from 'pino';
import { loadPipelineFile, type LoadedPipeline } from '../../src/config/load.ts';
import { startPipelines } from '../../src/runtime/process.ts';
import type { CpuOverRecords } from './gateway-topic.ts';
import { issue12Metrics } from './issue12-workload.ts';
import { threadCpu, type ThreadCpu } from './thread-cpu.ts';
import { WindowLatencyWatch } from './window-latency.ts';

const phase = process.argv[2];
const brokers = process.env.BENCH_BROKERS!.split(',');
const topic = process.env.BENCH_TOPIC!;
const expected = Number(process.env.BENCH_RECORDS);
const lastEventMs = Number(process.env.BENCH_LAST_EVENT_MS);

/** Where a phase's CPU count starts: the process's CPU and its split by thread at that moment. */
interface CpuMark {
  readonly process: NodeJS.CpuUsage;
  readonly threads: ThreadCpu | undefined;
}

function markCpu(): CpuMark {
  return { process: process.cpuUsage(), threads: threadCpu() };
}

/** Process CPU (user + system) in seconds since `from`, and its split by thread. */
function cpuSince(from: CpuMark): { cpuSeconds: number; threads: ThreadCpu | undefined } {
  return cpuBetween(from, markCpu());
}

/** Process CPU (user + system) in seconds between two marks, and its split by thread. */
function cpuBetween(from: CpuMark, to: CpuMark): { cpuSeconds: number; threads: ThreadCpu | undefined } {
  const cpuSeconds = (to.process.user + to.process.system - from.process.user - from.process.system) / 1e6;
  const threads = from.threads && to.threads ? { main: to.threads.main - from.threads.main, other: to.threads.other - from.threads.other } : undefined;
  return { cpuSeconds, threads };
}

/**
 * CPU over the middle half of the records: from the count's first reading at or past a quarter of
 * them to its first at or past three quarters. Without the process's warm-up (V8 compiling the
 * hot paths, the first windows' allocations) and the final close, it is the steady state a
 * long-running pipeline sees; the whole run's figure is issue 12's measure.
 */
class MiddleHalf {
  private from: { records: number; cpu: CpuMark } | undefined;
  result: CpuOverRecords | undefined;
  /** CPU from the first record to the middle half's start: the warm-up, which the whole run's figure pays and a long run spreads thin. */
  firstQuarter: CpuOverRecords | undefined;

  constructor(private readonly expected: number) {}

  /** The records counted so far (bare: parsed; pipeline: taken in by stage 1), and the CPU mark at the first record. */
  observe(records: number, first: CpuMark): void {
    if (this.from === undefined) {
      if (records >= this.expected / 4) {
        this.from = { records, cpu: markCpu() };
        this.firstQuarter = { records, ...cpuBetween(first, this.from.cpu) };
      }
    } else if (this.result === undefined && records >= (this.expected * 3) / 4) {
      this.result = { records: records - this.from.records, ...cpuSince(this.from.cpu) };
    }
  }
}

function report(result: Record<string, unknown>): void {
  const maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  memoryTrace?.stop();
  process.stdout.write(`${JSON.stringify({ phase, records: expected, ...result, maxRssMiB })}\n`);
}

/**
 * Where the peak RSS comes from (issue 12): with BENCH_MEMORY_TRACE=<file>, `process.memoryUsage()`
 * every 250 ms as JSON lines (MiB, seconds since start; loopMaxMs: the longest event-loop delay since the
 * line before), plus V8's heap spaces at each new RSS high;
 * (file name: <file>.<phase>[.<run>].<pid>) with BENCH_HEAP_SNAPSHOT_MIB=<n> as well, one heap snapshot next to that file when RSS first
 * passes n MiB; with BENCH_HEAP_SNAPSHOT_SECONDS=<s>, one after s seconds instead (the same point of
 * two phases whose RSS differs, e.g. mid-run). Off by default: sampling and snapshots cost the run
 * time, and a snapshot itself raises RSS by far more than the difference sought.
 */
function traceMemory(file: string | undefined): { mark(what: string): void; stop(): void } | undefined {
  if (!file) return undefined;
  const mib = (bytes: number) => Math.round(bytes / 104857.6) / 10;
  const lines: string[] = [];
  const snapshotAt = process.env.BENCH_HEAP_SNAPSHOT_MIB ? Number(process.env.BENCH_HEAP_SNAPSHOT_MIB) : Number.POSITIVE_INFINITY;
  const snapshotAfterMs = process.env.BENCH_HEAP_SNAPSHOT_SECONDS ? Number(process.env.BENCH_HEAP_SNAPSHOT_SECONDS) * 1000 : Number.POSITIVE_INFINITY;
  let snapshotTaken = false;
  let high = 0;
  const from = performance.now();
  // The longest the event loop was blocked since the last line (a window burst shows here).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    const line: Record<string, unknown> = { t: Math.round(performance.now() - from) / 1000, rss: mib(m.rss), heapTotal: mib(m.heapTotal), heapUsed: mib(m.heapUsed), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers), loopMaxMs: Math.round(loopDelay.max / 1e6) };
    loopDelay.reset();
    if (m.rss > high) {
      high = m.rss;
      line.spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, [mib(s.space_size), mib(s.space_used_size)]]));
    }
    lines.push(JSON.stringify(line));
    if (!snapshotTaken && (m.rss > snapshotAt * 1048576 || performance.now() - from > snapshotAfterMs)) {
      snapshotTaken = true;
      lines.push(JSON.stringify({ snapshot: writeHeapSnapshot(`${file}.heapsnapshot`) }));
    }
  }, 250);
  timer.unref();
  return {
    mark(what) {
      lines.push(JSON.stringify({ t: Math.round(performance.now() - from) / 1000, mark: what, rss: mib(process.memoryUsage.rss()) }));
    },
    stop() {
      clearInterval(timer);
      loopDelay.disable();
      writeFileSync(file, `${lines.join('\n')}\n`);
    },
  };
}
// One file per process: the instances comparison runs its phases (two of them at once) with the same environment.
const memoryTrace = traceMemory(process.env.BENCH_MEMORY_TRACE ? `${process.env.BENCH_MEMORY_TRACE}.${phase}${process.env.BENCH_RUN ? `.${process.env.BENCH_RUN}` : ''}.${process.pid}` : undefined);

async function bare(): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-bare', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-bare-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let checksum = 0;
  let started = 0;
  let cpuAtFirst: CpuMark | undefined;
  const middle = new MiddleHalf(expected);
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (!cpuAtFirst) {
          // Time and CPU from the first record, like the pipeline's: not the group join before it.
          started = performance.now();
          cpuAtFirst = markCpu();
        }
        for (const message of batch.messages) {
          const record = JSON.parse(message.value!.toString('utf8')) as { input_tokens: number };
          checksum += record.input_tokens;
        }
        seen += batch.messages.length;
        middle.observe(seen, cpuAtFirst);
        if (seen >= expected) resolve();
      },
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const { cpuSeconds, threads } = cpuSince(cpuAtFirst!);
  await consumer.disconnect();
  report({ seconds, cpuSeconds, threads, steady: middle.result, firstQuarter: middle.firstQuarter, consumed: seen, checksum });
}

/** `loaded` as a run of its own on the same topic: its own pipeline name, groups and partials topic, and a `bench_run` label on every sample. */
function labelledRun(loaded: LoadedPipeline, run: string): LoadedPipeline {
  const { config } = loaded;
  const tenants = Object.fromEntries(Object.entries(config.tenants.tenants).map(([id, t]) => [id, { ...t, extra_labels: { ...t.extra_labels, bench_run: run } }]));
  return {
    ...loaded,
    config: { ...config, name: `${config.name}-${run}`, source: { ...config.source, group_id: `${config.source.group_id}-${run}` }, tenants: { ...config.tenants, tenants } },
  };
}

/** The pipeline as one instance of the separate run `run`, checkpoints in Redis: see the header. */
function asSeparateRun(loaded: LoadedPipeline, run: string, redisUrl: string): LoadedPipeline {
  const separate = labelledRun(loaded, run);
  return { ...separate, config: { ...separate.config, state: { ...separate.config.state, backend: 'redis', redis_url: redisUrl } } };
}

/** Issue 12's workload (issue12-workload.ts), with or without issue 10's drift metric, as the run `label` (see the header). */
function issue12Workload(loaded: LoadedPipeline, label: string, drift: boolean): LoadedPipeline {
  const run = labelledRun(loaded, label);
  return { ...run, config: { ...run.config, metrics: issue12Metrics(run.config.metrics, drift) } };
}

/** The pipeline phase's workload: the shipped pipeline (as the run BENCH_LABEL, if set), or one of issue 12's (BENCH_WORKLOAD, BENCH_LABEL). */
function workloadOf(shipped: LoadedPipeline): LoadedPipeline {
  const workload = process.env.BENCH_WORKLOAD;
  if (workload === undefined) return process.env.BENCH_LABEL === undefined ? shipped : labelledRun(shipped, process.env.BENCH_LABEL);
  if (workload !== 'issue12' && workload !== 'issue12-drift') throw new Error(`BENCH_WORKLOAD ${workload}: expected issue12 or issue12-drift`);
  return issue12Workload(shipped, process.env.BENCH_LABEL ?? workload, workload === 'issue12-drift' && process.env.BENCH_DRIFT_SAME === undefined);
}

/** Source records the group has committed (a separate run's "all records in", over its instances). */
async function committedByGroup(admin: Admin, groupId: string): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return offsets!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** Marks this instance done and waits (bounded) until every instance of the run is. */
async function leaveTogether(dir: string, instances: number): Promise<void> {
  writeFileSync(join(dir, `${process.pid}.done`), '');
  for (let waited = 0; waited < 10 * 60_000 && readdirSync(dir).filter((f) => f.endsWith('.done')).length < instances; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function pipeline(): Promise<void> {
  const shipped = await loadPipelineFile(new URL('../../pipelines/bailian-gateway.yaml', import.meta.url).pathname);
  const run = process.env.BENCH_RUN;
  const workload = workloadOf(shipped);
  const loaded = run === undefined ? workload : asSeparateRun(workload, run, process.env.BENCH_REDIS_URL!);
  // One connection for the whole run: the check runs every poll, inside the measured process.
  const admin = run === undefined ? undefined : new Kafka({ clientId: 'bench-offsets', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin?.connect();
  const running = await startPipelines([loaded], { logger: pino({ level: 'warn' }), telemetryListen: '127.0.0.1:0' });
  const started = performance.now();
  const total = async (name: string) =>
    (await running.metrics.registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);
  let consumedAt = 0;
  // Read at the first poll that sees a record: at most one poll interval (50 ms) of work late. An
  // instance of a separate run counts from its group's first commit if that comes first: an
  // instance can join once its peer has read every record, and then never sees one of its own.
  let cpuAtFirst: CpuMark | undefined;
  let firstAt = 0;
  let cpuAtIn: CpuMark | undefined;
  const middle = new MiddleHalf(expected);
  const { window } = loaded.config;
  if (window.type !== 'tumbling') throw new Error('the bench pipeline has tumbling windows');
  const latency = new WindowLatencyWatch(window.size, window.allowed_lateness);
  const highestAcked = running.metrics.registry.getSingleMetric('sluice_remote_write_highest_sent_timestamp_seconds')!;
  // Stage 2's own watermark (the watermark-delay gauge is set once a second, too coarse here).
  const stage2 = (running.runners[0] as unknown as { stage2?: { watermark: number } }).stage2;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const acked = new Map((await highestAcked.get()).values.map((v) => [String(v.labels.tenant), v.value]));
    latency.observe(stage2?.watermark ?? Number.NEGATIVE_INFINITY, acked, Date.now());
    const taken = await total('sluice_records_in_total');
    // The group's commits are asked for only while they can still matter (one request per poll).
    const committed = admin && !(cpuAtFirst && consumedAt) ? await committedByGroup(admin, loaded.config.source.group_id) : taken;
    if (!cpuAtFirst && (taken > 0 || committed > 0)) {
      firstAt = performance.now();
      cpuAtFirst = markCpu();
    }
    if (cpuAtFirst) middle.observe(taken, cpuAtFirst);
    // A separate run's records are in when its group has committed them all, over its instances.
    if (!consumedAt && committed >= expected) {
      consumedAt = performance.now();
      cpuAtIn = markCpu();
      memoryTrace?.mark('all records in');
    }
    // Done when every record is in and every fired window's samples are acknowledged after the
    // final (idle) close; the pipeline's seriesCount never shrinks, so pending == 0 after the
    // watermark passes the data is the end.
    if (consumedAt && (await total('sluice_remote_write_samples_pending')) === 0 && (await allWindowsFired())) break;
  }
  const closeSeconds = (performance.now() - consumedAt) / 1000;
  const closeCpu = cpuSince(cpuAtIn!);
  const endToEnd = (performance.now() - started) / 1000;
  const { cpuSeconds, threads } = cpuSince(cpuAtFirst!);
  memoryTrace?.mark('output delivered');
  if (run !== undefined) await leaveTogether(process.env.BENCH_BARRIER_DIR!, Number(process.env.BENCH_INSTANCES ?? 1));
  await admin?.disconnect();
  await running.stop();
  memoryTrace?.mark('stopped');
  const deadLetters = (await running.metrics.deadLettered.get()).values.map((v) => `${v.labels.reason}=${v.value}`);
  const failedMetric = running.metrics.registry.getSingleMetric('sluice_remote_write_samples_failed_total')!;
  const failed = (await failedMetric.get()).values.map((v) => `${v.labels.tenant}/${v.labels.reason}=${v.value}`);
  report({
    seconds: (consumedAt - firstAt) / 1000,
    cpuSeconds,
    threads,
    steady: middle.result,
    firstQuarter: middle.firstQuarter,
    endToEndSeconds: endToEnd,
    close: { seconds: closeSeconds, ...closeCpu },
    consumed: await total('sluice_records_in_total'),
    samplesSent: await total('sluice_remote_write_samples_sent_total'),
    deadLetters,
    failed,
    windowLatency: latency.summary(),
  });

  // The watermark half a minute past the last event: only the final idle close moves it there
  // (no record is that late), and that close fires every window. Measured against the data's own
  // end, not the clock, so a slow run (a busy machine) still ends.
  async function allWindowsFired(): Promise<boolean> {
    const delay = (await running.metrics.watermarkDelay.get()).values[0]?.value;
    return delay !== undefined && Date.now() - delay * 1000 > lastEventMs + 30_000;
  }
}

await (phase === 'bare' ? bare() : phase === 'pipeline' ? pipeline() : Promise.reject(new Error(`unknown phase ${phase}`)));
process.exit(0);
