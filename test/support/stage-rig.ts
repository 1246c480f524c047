import { pino } from 'pino';
import { expect } from 'vitest';
import { parsePipeline, type LoadedPipeline } from '../../src/config/load.ts';
import { planMetrics, planWindowing } from '../../src/operators/windowed-metrics/plan.ts';
import { Ingest } from '../../src/runtime/ingest.ts';
import { ProgressWatch } from '../../src/runtime/progress-watch.ts';
import { partialsTopic } from '../../src/runtime/repartition-codec.ts';
import { Stage1 } from '../../src/runtime/stage1.ts';
import { Stage2, type Stage2Deps } from '../../src/runtime/stage2.ts';
import { SluiceMetrics } from '../../src/telemetry/metrics.ts';
import { FlakyCheckpointStore } from './flaky-checkpoint-store.ts';
import { FakeKafka, type FakeKafkaClient, type FakeMember } from './kafka-fake/index.ts';
import { ManualScheduler } from './manual-scheduler.ts';
import { MemorySink } from './memory-sink.ts';
import { FlatteningSink } from '../../src/sinks/prometheus/flatten.ts';

/** A small real pipeline: JSON records counted per tenant and model in 10 s tumbling windows. */
const PIPELINE = `
name: rig
source:
  type: kafka
  brokers: 127.0.0.1:9
  topics: [in]
  group_id: rig
  start_from: earliest
decode:
  codec: json
event_time:
  field: ts
  format: unix_ms
tenant:
  field: tenant
window:
  type: tumbling
  size: 10s
  max_out_of_orderness: 1s
  idle_timeout: 3s
repartition:
  partitions: 2
  flush_interval: 200ms
state:
  checkpoint_interval: 200ms
metrics:
  - name: rig_requests_total
    type: counter
    labels: { model: model }
  - name: rig_tokens_total
    type: counter
    value: tokens
    labels: { model: model }
# @extra-metrics
dead_letter:
  topic: rig.dlq
tenants:
  t1: { endpoint: "http://127.0.0.1:9/api/v1/write" }
  t2: { endpoint: "http://127.0.0.1:9/api/v1/write" }
`;

/** The rig pipeline's tumbling window. */
export const WINDOW_MS = 10_000;
export const SOURCE = 'in';
export const SOURCE_PARTITIONS = 2;
/** Wall and event time start here, on a window boundary. */
export const T0 = Date.UTC(2026, 0, 1);

/** One Sluice process on the rig: its stages, its Kafka client and its own timers. */
export interface RigInstance {
  readonly stage1: Stage1 | undefined;
  readonly stage2: Stage2 | undefined;
  readonly client: FakeKafkaClient;
  readonly metrics: SluiceMetrics;
  /** The process dies: its timers stop, its group members leave; nothing is committed or checkpointed. */
  crash(): void;
  stop(): Promise<void>;
}

/**
 * Stage 1 and stage 2 over the in-memory Kafka, a manual clock, an in-memory state backend and
 * an in-memory sink. Processes share the cluster, the state backend, the sink and the time.
 */
export class StageRig {
  readonly cluster = new FakeKafka({ [SOURCE]: SOURCE_PARTITIONS });
  readonly clock = new ManualScheduler(T0);
  readonly sink = new MemorySink();
  readonly store = new FlakyCheckpointStore();
  readonly loaded: LoadedPipeline;
  readonly partials = partialsTopic('rig');
  readonly instances: RigInstance[] = [];
  /** Every record produced, for the oracle. */
  readonly inputs: { ts: number; tenant: string; model: string; tokens: number }[] = [];
  private fedSteps = 0;
  /** Stage-2 settings the processes started from now on take (a test's own bounds). */
  stage2Options: Pick<Stage2Deps, 'catchUp'> = {};

  /** `extraMetrics`: YAML list entries (indented two spaces) appended to the rig pipeline's metrics. */
  constructor(extraMetrics = '') {
    this.loaded = parsePipeline(PIPELINE.replace('# @extra-metrics\n', extraMetrics), 'rig.yaml', {});
    this.cluster.createTopic(this.partials, 2);
    this.cluster.createTopic('rig.dlq', 1);
  }

  /** Starts a process running the given stages (both by default), as PipelineRunner does: stage 2 first. */
  async start(stages: { stage1?: boolean; stage2?: boolean } = {}): Promise<RigInstance> {
    const { config } = this.loaded;
    const client = this.cluster.client();
    const metrics = new SluiceMetrics();
    const logger = pino({ level: 'silent' });
    const clock = this.clock.scope();
    const progress = new ProgressWatch(config.name, 60_000, metrics, logger);
    const groups = planMetrics(config.metrics);
    const windowing = planWindowing(config.window);
    const common = { config, groups, windowing, kafka: client, metrics, logger, partialsTopic: this.partials, progress, clock };
    const sources = Array.from({ length: SOURCE_PARTITIONS }, (_, p) => `${SOURCE}/${p}`);
    const stage2 = stages.stage2 === false ? undefined : new Stage2({ ...common, sink: new FlatteningSink(this.sink), store: this.store, sources, ...this.stage2Options });
    const stage1 = stages.stage1 === false ? undefined : new Stage1({ ...common, ingest: new Ingest(this.loaded), partialsPartitions: 2 });
    await stage2?.start();
    await stage1?.start();
    let crashed = false;
    const instance: RigInstance = {
      stage1,
      stage2,
      client,
      metrics,
      crash: () => {
        crashed = true;
        clock.kill();
        for (const member of client.members) member.crash();
      },
      stop: async () => {
        if (crashed) return;
        await Promise.all([stage1?.stop(), stage2?.stop()]);
      },
    };
    this.instances.push(instance);
    return instance;
  }

  /** The group member of `instance`'s stage 1 or stage 2. */
  member(instance: RigInstance, stage: 1 | 2): FakeMember {
    const groupId = stage === 1 ? 'rig' : 'rig.stage2';
    const member = instance.client.members.find((m) => m.options.groupId === groupId);
    if (!member) throw new Error(`no stage-${stage} member`);
    return member;
  }

  /** Writes one source record (event time `ts`). */
  produce(partition: number, ts: number, fields: { tenant?: string; model?: string; tokens?: number } = {}): void {
    const record = { ts, tenant: fields.tenant ?? 't1', model: fields.model ?? 'm1', tokens: fields.tokens ?? 1 };
    this.cluster.produce(SOURCE, partition, JSON.stringify(record));
    this.inputs.push(record);
  }

  /** Fetches and delivers what is readable, then moves time by `ms` (firing the stages' ticks). */
  async step(ms = 100): Promise<void> {
    await this.cluster.poll();
    await this.clock.advance(ms);
  }

  /** Steps for `ms` of wall time. */
  async run(ms: number, stepMs = 100): Promise<void> {
    for (let t = 0; t < ms; t += stepMs) await this.step(stepMs);
  }

  /** Produces `count` records per source partition, one per step, event time following the clock. */
  async feed(count: number, stepMs = 100): Promise<void> {
    for (let n = 0; n < count; n++) {
      // The record pattern follows the steps fed so far: runs fed in different chunks get the same records.
      const i = this.fedSteps++;
      for (let p = 0; p < SOURCE_PARTITIONS; p++) this.produce(p, this.clock.now(), { model: i % 2 === 0 ? 'm1' : 'm2', tokens: (i % 5) + 1, tenant: i % 3 === 0 ? 't2' : 't1' });
      await this.step(stepMs);
    }
  }

  /** Lets every partition go idle so every window fires, then stops the live processes. */
  async finish(): Promise<void> {
    await this.run(20_000, 200);
    for (const instance of this.instances) await instance.stop();
  }

  /** The value of a counter series at a window end, as the sink received it. */
  value(tenant: string, name: string, labels: Record<string, string>, timestampMs: number): number | undefined {
    const series = Object.entries({ __name__: name, ...labels })
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return this.sink.points.get(`${tenant}|${series}@${timestampMs}`);
  }
}

/**
 * Where the sink's points differ from the input: each counter point must be the running total of
 * its tenant and model over the records before its window end (none late here), every write of a
 * point the same value. Empty when the run was exact.
 */
export function mismatches(rig: StageRig): string[] {
  const problems = [...rig.sink.conflicts];
  for (const [key, value] of rig.sink.points) {
    const match = /^(\w+)\|__name__=(\w+),model=(\w+)@(\d+)$/.exec(key);
    if (!match) {
      problems.push(`unexpected point ${key}`);
      continue;
    }
    const [, tenant, name, model, end] = match;
    let expected = 0;
    for (const r of rig.inputs) {
      if (r.tenant === tenant && r.model === model && r.ts < Number(end)) expected += name === 'rig_tokens_total' ? r.tokens : 1;
    }
    if (value !== expected) problems.push(`${key}: ${value}, expected ${expected}`);
  }
  // Every window up to the last input's has fired, for every series with input.
  const windowMs = WINDOW_MS;
  const lastEnd = Math.max(...rig.inputs.map((r) => Math.floor(r.ts / windowMs + 1) * windowMs));
  for (const series of new Set(rig.inputs.map((r) => `${r.tenant}|${r.model}`))) {
    const [tenant, model] = series.split('|');
    const firstEnd = Math.min(...rig.inputs.filter((r) => `${r.tenant}|${r.model}` === series).map((r) => Math.floor(r.ts / windowMs + 1) * windowMs));
    for (let end = firstEnd; end <= lastEnd; end += windowMs) {
      if (rig.value(tenant!, 'rig_requests_total', { model: model! }, end) === undefined) problems.push(`missing ${series} at ${end}`);
    }
  }
  return problems;
}

/** The points an uninterrupted run of `scenario` emits: what every disturbed run must equal. */
export async function referenceRun(scenario: (rig: StageRig) => Promise<void>): Promise<[string, number][]> {
  const rig = new StageRig();
  await rig.start();
  await scenario(rig);
  await rig.finish();
  return rig.sink.sorted();
}

const undisturbed = new Map<number, Promise<[string, number][]>>();

/**
 * Asserts the run was exact: its points are the running totals of its input (`mismatches`), and
 * the same as a run fed the same `steps` that nothing disturbed.
 */
export async function expectExact(rig: StageRig, steps: number): Promise<void> {
  expect(mismatches(rig)).toEqual([]);
  let reference = undisturbed.get(steps);
  if (!reference) {
    reference = referenceRun(async (r) => r.feed(steps));
    undisturbed.set(steps, reference);
  }
  const points = await reference;
  expect(points.length, 'the undisturbed run fired windows').toBeGreaterThan(8);
  expect(rig.sink.sorted()).toEqual(points);
}
