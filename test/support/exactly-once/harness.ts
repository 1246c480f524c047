import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admin, Kafka } from 'kafkajs';
import { startPrometheus, type PrometheusHandle } from '../../stack/prometheus.ts';
import { queryInstant } from '../../stack/prometheus-query.ts';
import type { StackInfo } from '../../stack/types.ts';
import { testKafka } from '../kafka-io.ts';
import { encodeRecord, EO_TENANTS, generateDataset, type Dataset, type EoRecord } from './dataset.ts';
import {
  committedOffsets,
  createTopic,
  describeGroup,
  Production,
  readDeadLetters,
  sleep,
  type GroupState,
  type ProductionReport,
} from './kafka.ts';
import { computeOracle, type Oracle } from './oracle.ts';
import { querySamples } from './prometheus.ts';
import { verifyTenant, type TenantVerification } from './verify.ts';

/**
 * The harness of the exactly-once scenarios: one Scenario per test file, with its own pipeline
 * name (consumer group, internal topics, DLQ), its own source topic and its own five tenant
 * Prometheus receivers, so scenarios never see each other's data. Pipeline instances are
 * separate OS processes (`node src/cli/bin.js run <yaml>`), each with a log file, that the
 * harness can SIGKILL, SIGSTOP / SIGCONT and restart. Everything it starts it stops in close().
 */

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The pipeline under test; EO_PIPELINE_FILE overrides it (e.g. to try a variant by hand). */
export const PIPELINE_FILE = process.env.EO_PIPELINE_FILE ?? join(REPO_ROOT, 'test/fixtures/pipelines/exactly-once.yaml');
/** The `sluice` entry point; EO_SLUICE_BIN overrides it (e.g. another checkout's src/cli/bin.js). */
const BIN = process.env.EO_SLUICE_BIN ?? join(REPO_ROOT, 'src/cli/bin.js');
/** Below Kafka's group.min.session.timeout.ms (6 s) the broker refuses the join. */
export const SESSION_TIMEOUT = process.env.EO_SESSION_TIMEOUT ?? '6s';
const READY_TIMEOUT_MS = 120_000;

/**
 * A scenario's dataset: `records` over `spanMs` of event time on 6 partitions, ending 30 s before
 * now, so every window is in the past (final by watermark once the data is read, and well inside
 * Prometheus' one-hour window). EO_SEED overrides the seed to reproduce a run.
 */
export function scenarioDataset(seed: number, records: number, spanMs: number): Dataset {
  const s = process.env.EO_SEED ? Number(process.env.EO_SEED) : seed;
  return generateDataset({ seed: s, records, spanMs, startMs: Date.now() - spanMs - 30_000, partitions: 6 });
}

/** Scales the finish deadline (EO_FINISH_TIMEOUT_S), for slow machines. */
export const FINISH_TIMEOUT_MS = Number(process.env.EO_FINISH_TIMEOUT_S ?? 150) * 1_000;

export interface ScenarioOptions {
  /** Short scenario name: part of the pipeline name `eo-<name>-<random>`. */
  name: string;
  stack: StackInfo;
  dataset: Dataset;
  /** Records per second while producing. */
  rate: number;
  /** Redis for the pipeline's state. Default: the shared one from the stack. */
  redisUrl?: string;
  /** Extra environment for every instance. */
  env?: Record<string, string>;
  /** The pipeline file the instances run (default PIPELINE_FILE). */
  pipelineFile?: string;
  /** How long an instance may take to log that it runs (default 45 s). */
  readyTimeoutMs?: number;
  /**
   * The longest broker outage the scenario's producer must ride out: its sends then retry (the
   * idempotent producer keeps their sequence numbers, so nothing is written twice) for longer.
   */
  brokerOutageMs?: number;
}

export interface Instance {
  /** Logical name (`a`, `b`, …); a restart keeps the name and bumps `generation`. */
  name: string;
  generation: number;
  pid: number;
  logFile: string;
  startedAt: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
  /** Set before the harness signals it, so the exit is not reported as a crash. */
  expectedExit: boolean;
  paused: boolean;
  telemetryUrl?: string;
  child: ChildProcess;
}

export interface VerifyReport {
  tenants: TenantVerification[];
  dlq: { expected: number; received: number; problems: string[] };
  ok: boolean;
}

// Instances of every scenario of this process: killed on exit whatever happened.
const live = new Set<Instance>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const i of live) {
      try {
        process.kill(i.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

export class Scenario {
  readonly pipeline: string;
  readonly topic: string;
  readonly dlqTopic: string;
  readonly dir: string;
  readonly oracle: Oracle;
  readonly kafka: Kafka;
  readonly instances: Instance[] = [];
  production?: Production;
  private readonly facts: Record<string, unknown> = {};
  private readonly startedAt = Date.now();
  private closed = false;

  private constructor(
    readonly options: ScenarioOptions,
    readonly admin: Admin,
    readonly receivers: Record<string, PrometheusHandle>,
    ids: { pipeline: string; dir: string },
    oracle: Oracle,
  ) {
    this.pipeline = ids.pipeline;
    this.topic = `${ids.pipeline}.in`;
    this.dlqTopic = `${ids.pipeline}.dlq`;
    this.dir = ids.dir;
    this.oracle = oracle;
    const outage = options.brokerOutageMs;
    // kafkajs retries with a ceiling of maxRetryTime each: enough retries to outlast the outage twice over.
    const retry = outage ? { retries: Math.ceil((2 * outage) / 2_000) + 5, initialRetryTime: 300, maxRetryTime: 2_000 } : undefined;
    this.kafka = testKafka(options.stack.brokers, `eo-harness-${options.name}`, retry);
  }

  /** Computes the oracle, starts the five receivers and creates the source topic. */
  static async create(options: ScenarioOptions): Promise<Scenario> {
    installExitHook();
    const pipeline = `eo-${options.name}-${randomBytes(3).toString('hex')}`;
    const dir = join(options.stack.runDir, 'exactly-once', pipeline);
    mkdirSync(dir, { recursive: true });
    const oracleStarted = Date.now();
    const oracle = computeOracle(options.dataset.sequence, options.dataset.options.rules);
    const oracleMs = Date.now() - oracleStarted;

    const kafka = testKafka(options.stack.brokers, `eo-admin-${options.name}`);
    const admin = kafka.admin();
    await admin.connect();
    const receivers: Record<string, PrometheusHandle> = {};
    const started = await Promise.allSettled(
      EO_TENANTS.map(async (tenant) => {
        receivers[tenant] = await startPrometheus({ tenant, dir: join(dir, `prometheus-${tenant}`), logFile: join(dir, `prometheus-${tenant}.log`) });
      }),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const scenario = new Scenario(options, admin, receivers, { pipeline, dir }, oracle);
    if (failed) {
      await scenario.close();
      throw failed.reason;
    }
    try {
      await createTopic(admin, scenario.topic, options.dataset.options.partitions);
    } catch (error) {
      await scenario.close();
      throw error;
    }
    scenario.fact('pipeline', pipeline);
    scenario.fact('seed', options.dataset.options.seed);
    scenario.fact('records', oracle.records);
    scenario.fact('accepted', oracle.accepted);
    scenario.fact('late', oracle.late.length);
    scenario.fact('partitions', options.dataset.options.partitions);
    scenario.fact('empty_partitions', options.dataset.emptyPartitions.join(','));
    scenario.fact('quiet_early_partitions', [...options.dataset.quietPartitions.keys()].join(','));
    scenario.fact('windows', (oracle.lastWindowEnd - oracle.firstWindowEnd) / oracle.rules.windowMs + 1);
    scenario.fact('oracle_ms', oracleMs);
    return scenario;
  }

  fact(key: string, value: unknown): void {
    this.facts[key] = value;
  }

  /** The instance environment: the fixture's variables, plus `env` of the options and of the call. */
  instanceEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS' && !k.startsWith('EO_')),
    );
    return {
      ...inherited,
      EO_PIPELINE: this.pipeline,
      EO_TOPIC: this.topic,
      SLUICE_KAFKA_BROKERS: this.options.stack.brokers.join(','),
      SLUICE_REDIS_URL: this.options.redisUrl ?? this.options.stack.redisUrl,
      SLUICE_KAFKA_SESSION_TIMEOUT: SESSION_TIMEOUT,
      SLUICE_LOG_LEVEL: process.env.EO_LOG_LEVEL ?? 'info',
      ...Object.fromEntries(EO_TENANTS.map((t, i) => [`EO_T${i + 1}_URL`, this.receivers[t]!.remoteWriteUrl])),
      ...this.options.env,
      ...extra,
    };
  }

  /**
   * Spawns an instance and (unless `waitReady` is false) waits until it logs that it runs (a pino
   * line with a `telemetry` URL, as `sluice run` logs "sluice running"). Fails with its log tail
   * if it exits first.
   */
  async startInstance(name: string, { env = {}, waitReady = true }: { env?: Record<string, string>; waitReady?: boolean } = {}): Promise<Instance> {
    this.assertOpen();
    const generation = this.instances.filter((i) => i.name === name).length;
    const logFile = join(this.dir, `instance-${name}.${generation}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [BIN, 'run', this.options.pipelineFile ?? PIPELINE_FILE], { cwd: REPO_ROOT, env: this.instanceEnv(env), stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not spawn instance ${name}; see ${logFile}`);
    const instance: Instance = {
      name,
      generation,
      pid: child.pid,
      logFile,
      startedAt: Date.now(),
      expectedExit: false,
      paused: false,
      child,
      exit: new Promise((resolve) => {
        child.once('exit', (code, signal) => resolve({ code, signal }));
        child.once('error', () => resolve({ code: null, signal: null }));
      }),
    };
    void instance.exit.then((e) => {
      instance.exited = e;
      live.delete(instance);
    });
    live.add(instance);
    this.instances.push(instance);

    if (waitReady) await this.waitReady(instance);
    return instance;
  }

  /** Waits until an instance logs its telemetry URL; fails with its log tail if it exits first. */
  async waitReady(instance: Instance): Promise<Instance> {
    const readyTimeoutMs = this.options.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const url = telemetryUrlFromLog(instance.logFile);
      if (url) {
        instance.telemetryUrl = url;
        return instance;
      }
      if (instance.exited) throw new Error(`instance ${label(instance)} exited during startup (${describeExit(instance)})\n${this.tail(instance)}`);
      if (Date.now() > deadline) throw new Error(`instance ${label(instance)} did not log its telemetry URL within ${readyTimeoutMs / 1000} s\n${this.tail(instance)}`);
      await sleep(100);
    }
  }

  /** SIGKILL (or another signal that ends it) and wait until the process is gone. */
  async kill(instance: Instance, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (instance.exited) return;
    instance.expectedExit = true;
    signalPid(instance.pid, signal);
    await instance.exit;
  }

  pause(instance: Instance): void {
    signalPid(instance.pid, 'SIGSTOP');
    instance.paused = true;
  }

  resume(instance: Instance): void {
    signalPid(instance.pid, 'SIGCONT');
    instance.paused = false;
  }

  /** Starts producing the dataset at the scenario's rate; `production.done` resolves when all is acknowledged. */
  produce(): Production {
    this.assertOpen();
    if (this.production) throw new Error('produce() called twice');
    this.production = new Production(this.kafka, this.topic, this.options.dataset.sequence, this.options.rate);
    return this.production;
  }

  /** Waits for production to end, records its facts, and checks the broker assigned the offsets the oracle assumes. */
  async productionDone(): Promise<ProductionReport> {
    const production = this.production;
    if (!production) throw new Error('productionDone() before produce()');
    const report = await production.done;
    this.fact('produce_ms', report.durationMs);
    this.fact('produce_rate', report.rate);
    this.fact('producer_max_gap_ms', report.maxSendGapMs);
    if (report.maxSendGapMs > 1_500) {
      console.warn(`[eo:${this.options.name}] producer stalled ${report.maxSendGapMs} ms between sends (idle_timeout is 3 s): a partition may have looked idle`);
    }
    const expectedOffset = new Map<number, number>();
    this.options.dataset.sequence.forEach((r, i) => {
      const want = expectedOffset.get(r.partition) ?? 0;
      expectedOffset.set(r.partition, want + 1);
      if (production.offsets[i] !== want) {
        throw new Error(`record ${r.record.id} got offset ${production.offsets[i]} on partition ${r.partition}, expected ${want}: the oracle's offsets would be wrong`);
      }
    });
    return report;
  }

  /** Throws (with exit status and log tail) if an instance died without the harness killing it. */
  assertNoCrash(): void {
    const crashed = this.instances.filter((i) => i.exited && !i.expectedExit);
    if (crashed.length > 0) {
      throw new Error(crashed.map((i) => `instance ${label(i)} exited unexpectedly (${describeExit(i)})\n${this.tail(i)}`).join('\n\n'));
    }
  }

  /** Resolves once `check` holds, polling every `intervalMs`; throws `message()` after `timeoutMs` or when an instance crashes. */
  async until(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 500): Promise<number> {
    const started = Date.now();
    for (;;) {
      this.assertNoCrash();
      if (await check()) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n${this.tails()}`);
      await sleep(intervalMs);
    }
  }

  /** The pipeline's (stage-1) consumer group: the pipeline name (group_id in the fixture). */
  group(): Promise<GroupState> {
    return describeGroup(this.admin, this.pipeline);
  }

  async waitGroupMembers(members: number, timeoutMs = 120_000): Promise<number> {
    let last: GroupState | undefined;
    try {
      return await this.until(
        `consumer group ${this.pipeline} to be Stable with ${members} member(s)`,
        async () => {
          last = await this.group();
          return last.state === 'Stable' && last.members === members;
        },
        timeoutMs,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\nlast group state: ${JSON.stringify(last)}`);
    }
  }

  committedSourceOffsets(): Promise<Map<number, number>> {
    return committedOffsets(this.admin, this.pipeline, this.topic);
  }

  /** Sum over each tenant's series of the newest eo_requests_total sample. */
  async requestTotals(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const tenant of EO_TENANTS) {
      const rows = await queryInstant(this.receivers[tenant]!.url, 'sum(last_over_time(eo_requests_total[1h]))');
      out.set(tenant, rows[0]?.value ?? 0);
    }
    return out;
  }

  /**
   * Waits until every tenant's eo_requests_total reaches the oracle's accepted count and all
   * totals stay unchanged for `stableMs`. Fails fast on a crash or when a total overshoots (a
   * cumulative total can never exceed the final one: that is double counting or a leak), and
   * after `timeoutMs` with the last totals and the instance logs.
   */
  async waitFinished({ timeoutMs = FINISH_TIMEOUT_MS, stableMs = 3_000 } = {}): Promise<number> {
    const started = Date.now();
    const want = new Map(EO_TENANTS.map((t) => [t, this.oracle.tenants.get(t)?.accepted ?? 0]));
    let last = '';
    let stableSince = Date.now();
    for (;;) {
      this.assertNoCrash();
      const totals = await this.requestTotals();
      const shown = EO_TENANTS.map((t) => `${t}=${totals.get(t)}/${want.get(t)}`).join(' ');
      const over = EO_TENANTS.filter((t) => totals.get(t)! > want.get(t)!);
      if (over.length > 0) {
        throw new Error(
          `eo_requests_total overshoots the oracle (double counting, a leak, or records accepted that the oracle calls late): ${shown}\n` +
            `${await this.diagnosis()}\n${this.tails()}`,
        );
      }
      if (shown !== last) {
        last = shown;
        stableSince = Date.now();
      }
      const reached = EO_TENANTS.every((t) => totals.get(t) === want.get(t));
      if (reached && Date.now() - stableSince >= stableMs) {
        const ms = Date.now() - started;
        this.fact('finish_wait_ms', ms);
        return ms;
      }
      if (Date.now() - started > timeoutMs) {
        throw new Error(
          `pipeline did not finish within ${timeoutMs / 1000} s: eo_requests_total per tenant (got/expected) ${shown}\n${await this.diagnosis()}\n${this.tails()}`,
        );
      }
      await sleep(1_000);
    }
  }

  /**
   * Compares every tenant's Prometheus with the oracle (see verify.ts) and the DLQ with the late
   * records. Re-reads for up to `settleMs` while something is missing (samples of the last
   * windows may trail the counters); a wrong value never heals, so the last report is final.
   */
  async verify({ settleMs = 15_000, dlqTimeoutMs = 30_000 } = {}): Promise<VerifyReport> {
    const deadline = Date.now() + settleMs;
    let tenants: TenantVerification[];
    for (;;) {
      this.assertNoCrash();
      const nowSec = Date.now() / 1000;
      const rangeSec = nowSec - (this.oracle.firstWindowEnd - 120_000) / 1000;
      tenants = [];
      for (const tenant of EO_TENANTS) {
        const series = await querySamples(this.receivers[tenant]!.url, '{__name__=~"eo_.+"}', rangeSec, nowSec);
        tenants.push(verifyTenant(tenant, this.oracle, series));
      }
      if (tenants.every((t) => t.mismatches === 0) || Date.now() > deadline) break;
      await sleep(2_000);
    }
    const dlq = await this.verifyDeadLetters(dlqTimeoutMs);
    const report: VerifyReport = { tenants, dlq, ok: tenants.every((t) => t.mismatches === 0) && dlq.problems.length === 0 };
    this.fact('samples_checked', tenants.reduce((a, t) => a + t.samplesChecked, 0));
    this.fact('gauge_windows_checked', tenants.reduce((a, t) => a + t.gaugeWindowsChecked, 0));
    this.fact('counter_windows_checked', tenants.reduce((a, t) => a + t.counterWindowsChecked, 0));
    this.fact('mismatches', tenants.reduce((a, t) => a + t.mismatches, 0));
    this.fact('dlq_received', dlq.received);
    return report;
  }

  /** The DLQ holds exactly the late records: each once, reason `late`, its origin in headers, original bytes. */
  async verifyDeadLetters(timeoutMs = 30_000): Promise<VerifyReport['dlq']> {
    const late = this.oracle.late;
    const letters = await readDeadLetters(this.kafka, this.admin, this.dlqTopic, late.length, { timeoutMs });
    const byId = new Map<string, EoRecord>();
    for (const r of this.options.dataset.sequence) byId.set(r.record.id, r.record);
    const expected = new Map(late.map((l) => [l.id, l]));
    const problems: string[] = [];
    const seen = new Map<string, number>();
    for (const d of letters) {
      seen.set(d.key, (seen.get(d.key) ?? 0) + 1);
      const want = expected.get(d.key);
      const where = `DLQ ${d.dlqPartition}@${d.dlqOffset} key ${d.key}`;
      if (!want) {
        problems.push(`${where}: not a late record (reason ${d.headers['sluice.reason']}, ${d.headers['sluice.detail'] ?? ''})`);
        continue;
      }
      if (d.headers['sluice.reason'] !== 'late') problems.push(`${where}: reason ${d.headers['sluice.reason']}, expected late`);
      if (d.headers['sluice.source.partition'] !== String(want.partition)) problems.push(`${where}: source partition ${d.headers['sluice.source.partition']}, expected ${want.partition}`);
      if (d.headers['sluice.source.offset'] !== String(want.offset)) problems.push(`${where}: source offset ${d.headers['sluice.source.offset']}, expected ${want.offset}`);
      if (d.headers['sluice.source.topic'] !== undefined && d.headers['sluice.source.topic'] !== this.topic) problems.push(`${where}: source topic ${d.headers['sluice.source.topic']}`);
      if (!d.value || !d.value.equals(encodeRecord(byId.get(d.key)!))) problems.push(`${where}: value is not the original bytes`);
    }
    for (const [id, n] of seen) if (n > 1 && expected.has(id)) problems.push(`late record ${id} is in the DLQ ${n} times`);
    const missing = late.filter((l) => !seen.has(l.id));
    if (missing.length > 0) {
      problems.push(`${missing.length} late record(s) missing from the DLQ, e.g. ${missing.slice(0, 5).map((l) => `${l.id} (p${l.partition}@${l.offset})`).join(', ')}`);
    }
    return { expected: late.length, received: letters.length, problems: problems.slice(0, 40).concat(problems.length > 40 ? [`… ${problems.length - 40} more`] : []) };
  }

  /** The verification's findings for a failure message (never throws). */
  private async diagnosis(): Promise<string> {
    try {
      const report = await this.verify({ settleMs: 0, dlqTimeoutMs: 5_000 });
      return report.ok ? 'verification of what is there: no mismatch' : this.describe(report);
    } catch (error) {
      return `(verification failed: ${(error as Error).message})`;
    }
  }

  /** A readable failure message for a report; empty when it is ok. */
  describe(report: VerifyReport): string {
    if (report.ok) return '';
    const lines = [`scenario ${this.pipeline}: results differ from the oracle`];
    for (const t of report.tenants) {
      if (t.mismatches === 0) continue;
      const kinds = Object.entries(t.byKind).map(([kind, n]) => `${kind}: ${n}`).join(', ');
      lines.push(`tenant ${t.tenant}: ${t.mismatches} mismatch(es) over ${t.seriesSeen} series (${kinds})`, ...t.details.map((d) => `  ${d}`));
    }
    if (report.dlq.problems.length > 0) lines.push(`DLQ (${report.dlq.received} received, ${report.dlq.expected} expected):`, ...report.dlq.problems.map((p) => `  ${p}`));
    lines.push(`logs: ${this.dir}`);
    return lines.join('\n');
  }

  /** Last log lines of an instance. */
  tail(instance: Instance, lines = 25): string {
    return `--- ${instance.logFile} (last ${lines} lines)\n${tailFile(instance.logFile, lines)}`;
  }

  /** Tails of the newest generation of every instance name. */
  tails(lines = 15): string {
    const newest = new Map<string, Instance>();
    for (const i of this.instances) newest.set(i.name, i);
    return [...newest.values()].map((i) => this.tail(i, lines)).join('\n');
  }

  /** One line of facts for the closing note, on stdout. */
  printFacts(): void {
    this.fact('duration_s', Math.round((Date.now() - this.startedAt) / 100) / 10);
    this.fact('instance_starts', this.instances.length);
    const parts = Object.entries(this.facts).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    console.log(`[eo:${this.options.name}] ${parts.join(' ')}`);
  }

  /** Stops every instance (SIGCONT first if paused; SIGTERM, then SIGKILL), the producer and the receivers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.production?.stop();
    await Promise.allSettled(
      this.instances
        .filter((i) => !i.exited)
        .map(async (i) => {
          i.expectedExit = true;
          if (i.paused) signalPid(i.pid, 'SIGCONT');
          signalPid(i.pid, 'SIGTERM');
          const gone = await Promise.race([i.exit.then(() => true), sleep(5_000).then(() => false)]);
          if (!gone) {
            signalPid(i.pid, 'SIGKILL');
            await i.exit;
          }
        }),
    );
    await this.production?.done.catch(() => {});
    await Promise.allSettled(Object.values(this.receivers).map((r) => r.stop()));
    await this.admin.disconnect().catch(() => {});
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('scenario is closed');
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function label(i: Instance): string {
  return `${i.name}#${i.generation} (pid ${i.pid})`;
}

function describeExit(i: Instance): string {
  return i.exited ? `code ${i.exited.code}, signal ${i.exited.signal}` : 'running';
}

function tailFile(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log)';
  const text = readFileSync(file, 'utf8').replace(/\n$/, '');
  return text.split('\n').slice(-lines).join('\n');
}

/** The telemetry URL from `sluice run`'s "sluice running" pino line, once it is there. */
function telemetryUrlFromLog(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"telemetry"')) continue;
    try {
      const entry = JSON.parse(line) as { telemetry?: unknown };
      if (typeof entry.telemetry === 'string') return entry.telemetry;
    } catch {
      // a partial line; the next poll sees it whole
    }
  }
  return undefined;
}
