import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../support/seeded-random.ts';
import { SOURCE_PARTITIONS, StageRig, T0 } from '../../support/stage-rig.ts';

/**
 * The score kinds (drift, anomaly, data_quality) through stage 1 and stage 2 over the Kafka fake,
 * with a manual clock: a process that crashes anywhere in the stream and a successor that restores
 * its checkpoint must emit the same score points and the same anomaly events as a run that nothing
 * disturbed (the unit-level twin of test/integration/scores-crash.test.ts).
 */
const SCORES = `
  - name: rig_tokens_avg
    type: gauge
    aggregate: avg
    value: tokens
    labels: { model: model }
  - name: rig_tokens_anomaly
    type: anomaly
    input: rig_tokens_avg
    detector: { learn_points: 3, threshold: 0.05, rest_points: 0 }
    labels: { model: model }
  - name: rig_tokens_drift
    type: drift
    value: tokens
    methods: [default, psi, wasserstein]
    reference: { type: first_windows, windows: 2 }
    labels: { model: model }
  - name: rig_tokens_trailing_drift
    type: drift
    value: tokens
    methods: [default, wasserstein]
    reference: { type: trailing_windows, windows: 3 }
    labels: { model: model }
  - name: rig_model_drift
    type: drift
    value: model
    feature: categorical
    methods: [default, jensenshannon, psi]
    reference: { type: trailing_windows, windows: 3 }
  - name: rig_tokens_quality
    type: data_quality
    field: tokens
    min: 0
    max: 400
    labels: { model: model }
`;
const EVENTS = 'sluice.rig.anomalies';
/** 100 ms steps: 9 windows of 10 s. */
const STEPS = 900;
const MODELS = ['m1', 'm2', 'm3', 'm4', 'm5'];

function scoresRig(): StageRig {
  const rig = new StageRig(SCORES);
  rig.cluster.createTopic(EVENTS, 1);
  return rig;
}

/**
 * Feeds steps [from, to): per step and source partition one record whose fields and event time
 * follow the step alone (a seeded draw per step), so runs fed in different chunks, or paused
 * between chunks, get the same records. The
 * model mix and the token level shift every few windows, with spikes, so the scores move.
 */
async function feed(rig: StageRig, from: number, to: number): Promise<void> {
  for (let step = from; step < to; step++) {
    const random = seededRandom(0x5c0e + step);
    for (let p = 0; p < SOURCE_PARTITIONS; p++) {
      const phase = Math.floor(step / 250);
      const model = MODELS[Math.floor(random() * (2 + phase)) % MODELS.length]!;
      const spike = random() < 0.02 ? 300 : 0;
      const tokens = Math.round(20 + 15 * phase + random() * 30 + spike);
      rig.produce(p, T0 + step * 100, { tenant: random() < 0.3 ? 't2' : 't1', model, tokens });
    }
    await rig.step();
  }
}

interface RunResult {
  points: [string, number][];
  events: Map<string, string>;
}

async function result(rig: StageRig): Promise<RunResult> {
  const events = new Map<string, string>();
  for (const record of rig.cluster.visible(EVENTS)) {
    const key = record.key?.toString() ?? '';
    const value = record.value?.toString() ?? '';
    expect(events.get(key) ?? value, `event ${key} repeated with other content`).toBe(value);
    events.set(key, value);
  }
  return { points: rig.sink.sorted().filter(([key]) => !key.includes('rig_requests_total') && !key.includes('rig_tokens_total')), events };
}

let undisturbed: Promise<RunResult> | undefined;
function reference(): Promise<RunResult> {
  undisturbed ??= (async () => {
    const rig = scoresRig();
    await rig.start();
    await feed(rig, 0, STEPS);
    await rig.finish();
    return result(rig);
  })();
  return undisturbed;
}

/** What differs between two runs' points, by metric and window end, for a failure message. */
function difference(want: [string, number][], got: [string, number][]): string[] {
  const w = new Map(want);
  const g = new Map(got);
  const lines: string[] = [];
  for (const [key, value] of w) if (!g.has(key)) lines.push(`missing ${key} (${value})`);
  for (const [key, value] of g) if (!w.has(key)) lines.push(`extra ${key} (${value})`);
  for (const [key, value] of w) if (g.has(key) && !Object.is(g.get(key), value)) lines.push(`changed ${key}: ${value} → ${g.get(key)}`);
  return lines;
}

async function crashRun(crashAt: readonly number[], options: { holdSink?: boolean } = {}): Promise<RunResult & { conflicts: string[] }> {
  const rig = scoresRig();
  let instance = await rig.start();
  let fed = 0;
  for (const at of crashAt) {
    await feed(rig, fed, at);
    fed = at;
    if (options.holdSink) {
      // The receiver stops acknowledging for a while before the crash: the outbox carries the windows.
      rig.sink.hold = true;
      await rig.run(1_000);
    }
    instance.crash();
    rig.sink.dropHeld();
    rig.sink.hold = false;
    instance = await rig.start();
  }
  await feed(rig, fed, STEPS);
  await rig.finish();
  return { ...(await result(rig)), conflicts: rig.sink.conflicts };
}

describe('score kinds over the Kafka fake', { timeout: 120_000 }, () => {
  it('an undisturbed run scores drift, anomaly and data quality and raises events', async () => {
    const { points, events } = await reference();
    const names = new Set(points.map(([key]) => /__name__=(\w+)/.exec(key)?.[1]));
    expect([...names].sort()).toEqual(
      expect.arrayContaining(['rig_model_drift', 'rig_model_drift_detected', 'rig_tokens_anomaly', 'rig_tokens_anomaly_events_total', 'rig_tokens_drift', 'rig_tokens_drift_detected', 'rig_tokens_trailing_drift', 'rig_tokens_trailing_drift_detected']),
    );
    expect(events.size).toBeGreaterThan(0);
  });

  for (const crashAt of [[150], [333], [505, 731], [250, 251, 870]]) {
    it(`crashes at steps ${crashAt.join(', ')}: the same scores and events as the undisturbed run`, async () => {
      const want = await reference();
      const got = await crashRun(crashAt);
      expect(got.conflicts).toEqual([]);
      expect(difference(want.points, got.points)).toEqual([]);
      expect(new Map([...got.events].sort())).toEqual(new Map([...want.events].sort()));
    });
  }

  it('crashes while the receiver holds its writes (the outbox carries the windows): the same scores', async () => {
    const want = await reference();
    const got = await crashRun([420, 640], { holdSink: true });
    expect(got.conflicts).toEqual([]);
    expect(difference(want.points, got.points)).toEqual([]);
    expect(new Map([...got.events].sort())).toEqual(new Map([...want.events].sort()));
  });
});
