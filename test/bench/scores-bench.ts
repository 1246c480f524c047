/**
 * `npm run bench` (scores): what the drift and anomaly kinds add to the CPU of the operator path,
 * as ratios measured in one run, configurations interleaved (a 2-core machine shared with other
 * work is noisy; both halves alternate window by window in ABBA order, a young-generation
 * collection ends each side-window, and each half reports medians over its windows and the median
 * of the windows' paired ratios; `--same without|with` runs one configuration on both sides of
 * either half, a check of the bench itself: it should read within a few per cent of 0).
 *
 *  - anomaly: stage 2's CPU per series update (decode of one partial per series and window from
 *    the repartition topic's bytes, merge, window firing, samples out, and one incremental
 *    checkpoint per window: head and changed entries packed as stage 2 writes them) for a
 *    gateway-like series group (counter, histogram, quantiles, gauge) with and without one anomaly
 *    metric over the quantiles' p95. Goal: ≤ 5 % added. Also printed: the checkpoint bytes per
 *    series update (what Redis receives, whose I/O the CPU figure leaves out).
 *  - drift: the pipeline's operator CPU per record (JSON decode, stage-1 pre-aggregation, partials
 *    encoded and decoded as on the repartition topic, stage-2 merge, firing and checkpoints) with
 *    and without one drift metric on a numeric feature (trailing reference of 6 windows).
 *    Goal: ≤ 10 % added.
 * Kafka and Redis I/O and remote write are left out (the anomaly and drift points add to remote
 * write as any two gauges would). Both halves put the kind on every series of a small group, its
 * densest use; after them, each kind as the shipped gateway pipeline uses it (shipped-scores.ts:
 * its 3 anomaly metrics in its stage 2, and its input-tokens drift metric added to issue 12's 11
 * gateway metrics, the workload of pipeline-bench's drift runs).
 *
 *  - `--parts` (with `--only drift`): drift's own work per series and window, alone (no other metric,
 *    50 series taking turns as stage 2 meets them, 100 whole values a window, trailing reference of
 *    6): stage 1's adds, the partial's encoding (sorting into counts), its decoding, and the firing
 *    (reference, scoring, points), in CPU µs.
 *
 *   node --import tsx test/bench/scores-bench.ts [--rounds 5] [--only anomaly|drift] [--same without|with] [--floor noop|gauge]
 *     [--off checkpoint|base|points|update|all] [--parts]
 *
 * `--off PART` (anomaly half): what one part of the anomaly kind costs, as a negative figure: both
 * sides run with the anomaly metric and the B side's has PART switched off (`checkpoint`: no log
 * entry and no base; `base`: no base; `points`: its two points dropped after emit; `update`: no
 * detector update, a constant score and no checkpoint). `--off all`: the A side without the
 * metric, the B side with one that neither updates, emits nor checkpoints: what its place in the
 * group's per-series loops costs.
 */
import { parseArgs } from 'node:util';
import { metricSchema } from '../../src/config/schema.ts';
import { DriftAggregator } from '../../src/operators/drift/aggregation.ts';
import type { MetricConfig } from '../../src/config/schema.ts';
import { AnomalyAggregator } from '../../src/operators/anomaly/aggregation.ts';
import { planMetrics, type SeriesGroupPlan, type Windowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial } from '../../src/runtime/repartition-codec.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { abba, checkpoint, collectYoung, cpuMs, median, pairedRatios, percentAdded } from './interleaved.ts';
import { shippedAnomalyPair, shippedDriftPair, type PairedWindows } from './shipped-scores.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, only: { type: 'string' }, same: { type: 'string' }, floor: { type: 'string' }, off: { type: 'string' }, parts: { type: 'boolean' } },
});
const rounds = Number(values.rounds);
/** `--only anomaly` or `--only drift` runs one half (for a CPU profile of it). */
const runs = (half: 'anomaly' | 'drift') => values.only === undefined || values.only === half;
const say = (line: string) => process.stdout.write(`${line}\n`);
const WINDOW = 10_000;
/** The anomaly kind's default `learn_points`: windows before its detectors score. */
const LEARN_POINTS = 200;
const windowing: Windowing = { kind: 'panes', sizeMs: WINDOW, slideMs: WINDOW };
const labels = { model: 'model' };

const base = [
  { name: 'requests_total', type: 'counter', labels },
  { name: 'latency_seconds', type: 'histogram', value: 'latency_ms', scale: 0.001, buckets: [0.01, 0.04, 0.16, 0.64, 2.56, 10.24, 40.96], labels },
  { name: 'latency_quantiles_seconds', type: 'quantiles', value: 'latency_ms', scale: 0.001, quantiles: [0.5, 0.95], labels },
  { name: 'tokens_per_second', type: 'gauge', aggregate: 'rate', value: 'tokens', labels },
].map((m) => metricSchema.parse(m));
const anomaly = metricSchema.parse({ name: 'latency_p95_anomaly', type: 'anomaly', input: 'latency_quantiles_seconds', input_labels: { quantile: '0.95' }, labels });
const drift = metricSchema.parse({ name: 'tokens_drift', type: 'drift', value: 'tokens', reference: { type: 'trailing_windows', windows: 6 }, labels });
/**
 * The drift half's two sides; `--same without` or `--same with` runs one configuration on both,
 * a check of the bench itself (it should read within a few per cent of 0).
 */
const withDrift = [...base, drift];
/**
 * `--floor noop`: the B side's drift metric adds nothing (its windows stay empty), so what it
 * costs is the per-metric work every record and series-window pays for a stateful kind (stage 1's
 * read and call, an empty window's create, wire, merge, firing and checkpoint entry), apart from
 * drift's own work on values. `--floor gauge`: a fifth plain gauge over the same field instead.
 */
const fifthGauge = metricSchema.parse({ name: 'tokens_max', type: 'gauge', aggregate: 'max', value: 'tokens', labels });
const driftA = values.same === 'with' ? withDrift : base;
const driftB = values.same === 'without' ? base : values.floor === 'gauge' ? [...base, fifthGauge] : withDrift;
const noOpDrift = values.floor === 'noop';
/** The anomaly half's two sides, `--same` as for the drift half. */
const withAnomaly = [...base, anomaly];
const offPart = values.off;
if (offPart !== undefined && !['checkpoint', 'base', 'points', 'update', 'all'].includes(offPart)) throw new Error(`--off ${offPart}: expected checkpoint, base, points, update or all`);
const anomalyA = values.same === 'with' || (offPart !== undefined && offPart !== 'all') ? withAnomaly : base;
const anomalyB = values.same === 'without' ? base : withAnomaly;

/** `--off PART`: the B side's anomaly aggregator with PART switched off (own properties over its methods). */
function switchOff(groups: readonly SeriesGroupPlan[], part: string): void {
  const aggregator = groups.flatMap((g) => g.aggregators).find((a): a is AnomalyAggregator => a instanceof AnomalyAggregator)!;
  const parts = aggregator.stateParts;
  const noCheckpoint = { ...parts, encodeMain: () => null, changed: () => {} };
  const emitWindow = aggregator.emitWindow.bind(aggregator);
  const off: Record<string, Partial<AnomalyAggregator>> = {
    checkpoint: { stateParts: noCheckpoint },
    base: { stateParts: { ...parts, changed: () => {} } },
    points: {
      emitWindow: (...args: Parameters<AnomalyAggregator['emitWindow']>) => {
        const out = args[6];
        const length = out.length;
        const emitted = emitWindow(...args);
        out.length = length;
        return emitted;
      },
    },
    update: {
      stateParts: noCheckpoint,
      emitWindow: (_acc, state, from, to, targets, ctx, out) => {
        if (from === to) return false;
        out.push({ metric: targets[0]!.metric, labels: targets[0]!.labels, timestampMs: ctx.windowEndMs, value: 0.1 });
        out.push({ metric: targets[1]!.metric, labels: targets[1]!.labels, timestampMs: ctx.windowEndMs, startTimestampMs: ctx.seriesStartMs, value: state.events });
        return true;
      },
    },
    all: { stateParts: noCheckpoint, emitWindow: () => false },
  };
  Object.defineProperties(aggregator, Object.fromEntries(Object.entries(off[part]!).map(([name, value]) => [name, { value }])));
}

/** Checkpoint bytes per series update of the last stage-2 run (what Redis receives; not in the CPU figure's I/O). */
let checkpointBytes = { without: 0, with: 0 };

/** One stage-2 merger and the repartition topic's bytes it reads, per window (built beforehand). */
function stage2Input(metrics: MetricConfig[], series: number, windows: number, off?: string) {
  const groups = planMetrics(metrics);
  if (off !== undefined) switchOff(groups, off);
  const random = seededRandom(11);
  const pre = new PreAggregator(groups, windowing);
  const byWindow: { key: string; value: Buffer }[][] = [];
  for (let w = 0; w < windows; w++) {
    for (let s = 0; s < series; s++) for (let r = 0; r < 20; r++) pre.add('acme', w * WINDOW + r, { model: `m${s}`, latency_ms: 100 + 400 * random(), tokens: Math.round(500 * random()) });
    byWindow.push(pre.drain().map((p) => ({ key: p.key, value: encodePartial(p, groups) })));
  }
  const merger = new WindowMerger(groups, windowing, { allowedLatenessMs: 0, expireAfterMs: 3_600_000 }, { emit: () => {} });
  return { groups, byWindow, merger, cpu: 0, bytes: 0 };
}

/**
 * Stage 2 alone, without and with the anomaly metric: SERIES series × WINDOWS windows of one
 * partial each, read from the repartition topic's bytes, merged, fired, and checkpointed as stage
 * 2 does. The two mergers take turns window by window, so the machine's load (shared, it moves
 * by tens of per cent within seconds) weighs on both alike, and in ABBA order: a window pair
 * allocates about one young generation, so in a fixed order each round's scavenges (~5 µs per
 * series update) fell into one merger's windows every time, whichever it was; the same
 * configuration on both sides then read -34 % to +62 %, in ABBA order -8 % to +3 %. Each
 * side-window now ends with a young-generation collection (its own allocations, charged to it) and
 * the figure is the median of the windows' paired ratios: `--same without` then read +0.4 %,
 * `--same with` -0.6 % (load 5-8), where summed rounds had read +3.1 % and +0.6 %.
 * The first `warmUpWindows` are run but not counted: they take the detectors past their
 * `learn_points` (200), so what is measured is the steady state a running pipeline pays.
 * Where the anomaly's share went (`--off PART`, load 10-14, 2 rounds each): its checkpoint -6.6 %
 * (the base every 32 points alone +1.6 %, i.e. ~0: the log in the series entry is the cost),
 * the update with its checkpoint -15.0 %, its two points +0.3 %, and a metric that neither
 * updates, emits nor checkpoints against none (`--off all`) +2.6 %. The forced scavenges are a
 * third of each side's figure (6-10 µs of 18-25 per series update), the anomaly side's 0.2-1.2 µs
 * more. Alone, 250 detectors taking turns update in 0.85 µs, 1.3-1.6 µs with 2 MB read between
 * windows: in stage 2 the update is bound by the ~25 cache lines it touches. (Since snapshot
 * version 2 it touches ~12 and reads them up front, DetectorModel.fetch; with this workload, phases
 * timed apart, load ~9, per series update: the update ~2.3 µs in place, the rest of the firing
 * +0.6-0.9, the checkpoint's entries +0.4 and their packing +0.6, the forced scavenge +0.6-1.0.)
 * CPU µs per series update of each side, window by window.
 */
function stage2Pair(series: number, windows: number, warmUpWindows: number): { without: number[]; with: number[] } {
  const total = warmUpWindows + windows;
  const both = { without: stage2Input(anomalyA, series, total), with: stage2Input(anomalyB, series, total, offPart) };
  const perUpdate = { without: [] as number[], with: [] as number[] };
  for (let w = 0; w < total; w++) {
    for (const side of abba(w, 'without' as const, 'with' as const)) {
      const run = both[side];
      const used = cpuMs(() => {
        for (const { key, value } of run.byWindow[w]!) run.merger.addPartial(decodePartial(key, value, run.groups));
        run.merger.advanceWatermark((w + 1) * WINDOW);
        const bytes = checkpoint(run.merger);
        if (w >= warmUpWindows) run.bytes += bytes;
        collectYoung();
      });
      if (w >= warmUpWindows) perUpdate[side].push(used / series);
    }
  }
  const updates = series * windows;
  checkpointBytes = { without: both.without.bytes / updates, with: both.with.bytes / updates };
  return perUpdate;
}

/** The bench's records, as JSON lines, with each line's window (the same lines feed both configurations). */
function pipelineLines(records: number, series: number, windows: number): { lines: string[]; windowOf: number[] } {
  const random = seededRandom(5);
  const lines: string[] = [];
  const windowOf: number[] = [];
  const perWindow = Math.ceil(records / windows);
  for (let i = 0; i < records; i++) {
    const window = Math.floor(i / perWindow);
    lines.push(JSON.stringify({ model: `m${i % series}`, latency_ms: Math.round(100 + 900 * random()), tokens: Math.round(40 + 800 * random() * random()), ts: window * WINDOW + (i % perWindow) }));
    windowOf.push(window);
  }
  return { lines, windowOf };
}

/** One configuration's operator path: stage 1, the partials wire and stage 2, built beforehand. */
function pipelineStages(metrics: MetricConfig[]) {
  const groups = planMetrics(metrics);
  // The generated group steps look `add` up on the aggregator at each call: an own property overrides it.
  if (noOpDrift) for (const a of groups.flatMap((g) => g.aggregators)) if (a instanceof DriftAggregator) Object.assign(a, { add: () => {} });
  const merger = new WindowMerger(groups, windowing, { allowedLatenessMs: 0, expireAfterMs: 3_600_000 }, { emit: () => {} });
  return { groups, merger, pre: new PreAggregator(groups, windowing), perRecord: [] as number[] };
}

/**
 * The operator path (JSON decode, stage 1, the partials wire, stage 2, firing and one checkpoint
 * per window) of two configurations, taking turns window by window in ABBA order as the anomaly
 * half does: run one after the other, a round's load fell on one side, and the figure read +6 % to
 * +88 % under load. CPU µs per record of each, window by window.
 */
function pipelinePair(a: MetricConfig[], b: MetricConfig[], records: number, series: number, windows: number): { a: number[]; b: number[] } {
  const { lines, windowOf } = pipelineLines(records, series, windows);
  const both = { a: pipelineStages(a), b: pipelineStages(b) };
  let first = 0;
  for (let w = 0; w < windows; w++) {
    let end = first;
    while (end < lines.length && windowOf[end] === w) end++;
    for (const run of abba(w, both.a, both.b)) {
      const used = cpuMs(() => {
        for (let i = first; i < end; i++) {
          const record = JSON.parse(lines[i]!) as Record<string, unknown>;
          run.pre.add('acme', record.ts as number, record);
        }
        for (const p of run.pre.drain()) run.merger.addPartial(decodePartial(p.key, encodePartial(p, run.groups), run.groups));
        run.merger.advanceWatermark((w + 1) * WINDOW);
        checkpoint(run.merger);
        collectYoung();
      });
      run.perRecord.push(used / (end - first));
    }
    first = end;
  }
  return { a: both.a.perRecord, b: both.b.perRecord };
}

/** Per window: CPU µs per series update of each side, and their ratio (with over without, back to back). */
const stage2 = { without: [] as number[], with: [] as number[], ratios: [] as number[] };
/** Per window: CPU µs per record of each side, and their ratio (B over A, the two ran back to back). */
const pipeline = { without: [] as number[], with: [] as number[], ratios: [] as number[] };
if (runs('anomaly')) stage2Pair(50, 20, 0); // warm-up (JIT)
// Warm-up (JIT): with 20,000 records the first counted round still read ~60 % slower than the rest,
// and its B side 6-10 % above its A side with the same configuration on both.
if (runs('drift') && values.parts !== true) pipelinePair(driftA, driftB, 100_000, 50, 20);
for (let r = 0; r < rounds; r++) {
  if (runs('anomaly')) {
    const pair = stage2Pair(250, 60, LEARN_POINTS + 5);
    stage2.without.push(...pair.without);
    stage2.with.push(...pair.with);
    pair.without.forEach((without, w) => stage2.ratios.push(pair.with[w]! / without));
  }
  if (runs('drift') && values.parts !== true) {
    const pair = pipelinePair(driftA, driftB, 200_000, 50, 40);
    pipeline.without.push(...pair.a);
    pipeline.with.push(...pair.b);
    pair.a.forEach((without, w) => pipeline.ratios.push(pair.b[w]! / without));
  }
}
const anomalySides =
  offPart === undefined ? ['without', 'with one anomaly metric'] : offPart === 'all' ? ['without', 'with one anomaly metric doing nothing (--off all)'] : ['with one anomaly metric', `with one whose ${offPart} is off (--off ${offPart})`];
if (runs('anomaly')) say(`scores-bench: anomaly kind: stage-2 CPU per series update ${(median(stage2.without) * 1000).toFixed(2)} µs ${anomalySides[0]}, ${(median(stage2.with) * 1000).toFixed(2)} µs ${anomalySides[1]}: ${percentAdded(median(stage2.ratios))} % (goal <= 5 %); checkpoint bytes per series update ${checkpointBytes.without.toFixed(0)} / ${checkpointBytes.with.toFixed(0)}`);
// Both halves report medians over windows, and the median of each window's paired ratio: on a
// loaded machine one side-window in ten or so takes 1.5-2x the rest (preempted, its caches cold),
// and summed per round these put the same configuration on both sides at -19 % to +35 %.
const bSide = values.same !== undefined ? `the same configuration (--same ${values.same})` : values.floor === 'gauge' ? 'a fifth plain gauge' : noOpDrift ? 'one drift metric whose add does nothing (the floor)' : 'one drift metric';
if (runs('drift') && values.parts !== true) say(`scores-bench: drift kind: operator-path CPU per record ${(median(pipeline.without) * 1000).toFixed(2)} µs without, ${(median(pipeline.with) * 1000).toFixed(2)} µs with ${bSide}: ${percentAdded(median(pipeline.ratios))} % (goal <= 10 %)`);

/**
 * The kinds as the shipped gateway pipeline uses them (shipped-scores.ts), after the dense halves
 * above; `--same` applies to them too, `--off`, `--floor` and `--parts` do not (they run alone).
 */
if (offPart === undefined && values.floor === undefined && values.parts !== true) {
  const same = values.same === 'without' || values.same === 'with' ? values.same : undefined;
  const line = (what: string, { a, b }: PairedWindows, goal: string) => {
    const [withoutSide, withSide] = [median(a).toFixed(2), median(b).toFixed(2)];
    const sides = same === undefined ? `${withoutSide} µs without, ${withSide} µs with` : `${withoutSide} and ${withSide} µs with the same configuration (--same ${same})`;
    say(`scores-bench: ${what} ${sides}: ${percentAdded(median(pairedRatios(a, b)))} % (${goal})`);
  };
  if (runs('anomaly')) line('anomaly kind in the shipped gateway pipeline (its 3 anomaly metrics): stage-2 CPU per series update', shippedAnomalyPair(LEARN_POINTS + 5, 40 * rounds, 2_000, same), 'goal <= 5 %');
  if (runs('drift')) line("drift kind on issue 12's gateway workload (+ the shipped input-tokens drift metric): operator-path CPU per record", shippedDriftPair(30, 12 * rounds, 16_667, same), 'goal <= 10 %; without Kafka and remote write, an upper bound');
}

/**
 * `--parts`: drift's own work per series and window, each part timed over all series and windows
 * of a round (CPU µs per series-window; medians over rounds). The windows are built by the
 * aggregator as stage 1 does, encoded and decoded as the partials wire carries them, and fired as
 * stage 2 fires them.
 */
function driftParts(series: number, windows: number): Record<'add' | 'encode' | 'decode' | 'firing', number> {
  const aggregator = planMetrics([drift]).flatMap((g) => g.aggregators).find((a) => a instanceof DriftAggregator) as DriftAggregator;
  const random = seededRandom(17);
  const raw = Array.from({ length: windows * series }, () => Array.from({ length: 100 }, () => Math.round(40 + 800 * random() * random())));
  const out: Parameters<DriftAggregator['emitWindow']>[6] = [];
  const ctx = { tenant: 'acme', seriesKey: 's', windowStartMs: 0, windowEndMs: 0, windowSeconds: WINDOW / 1000, seriesStartMs: 0, event: () => {} };
  const states = Array.from({ length: series }, () => aggregator.createSeriesState());
  const targets = aggregator.targets([]);
  const used = { add: 0, encode: 0, decode: 0, firing: 0 };
  for (let w = 0; w < windows; w++) {
    const batch = raw.slice(w * series, (w + 1) * series);
    const accs = batch.map(() => aggregator.create());
    // Records of the series take turns, as a source partition's records do.
    used.add += cpuMs(() => {
      for (let i = 0; i < 100; i++) for (let s = 0; s < series; s++) aggregator.add(accs[s]!, batch[s]![i]!);
    });
    let bytes: Uint8Array[] = [];
    used.encode += cpuMs(() => (bytes = accs.map((acc) => aggregator.encode(acc) as Uint8Array)));
    // As the wire hands them over: views into a message, not at the start of a buffer.
    const message = Buffer.concat([Buffer.alloc(3), ...bytes]);
    let at = 3;
    const views = bytes.map((b) => message.subarray(at, (at += b.length)));
    let decoded: ReturnType<DriftAggregator['decode']>[] = [];
    used.decode += cpuMs(() => (decoded = views.map((view) => aggregator.decode(view))));
    used.firing += cpuMs(() => {
      for (let s = 0; s < series; s++) {
        ctx.windowStartMs = w * WINDOW;
        ctx.windowEndMs = (w + 1) * WINDOW;
        out.length = 0;
        aggregator.emitWindow(decoded[s], states[s]!, 0, 0, targets, ctx, out);
      }
    });
    collectYoung();
  }
  const perWindow = (ms: number) => (ms * 1000) / (series * windows);
  return { add: perWindow(used.add), encode: perWindow(used.encode), decode: perWindow(used.decode), firing: perWindow(used.firing) };
}

if (runs('drift') && values.parts === true) {
  driftParts(50, 40); // warm-up (JIT)
  const rounds_ = Array.from({ length: rounds }, () => driftParts(50, 200));
  const part = (k: 'add' | 'encode' | 'decode' | 'firing') => median(rounds_.map((r) => r[k])).toFixed(2);
  say(`scores-bench: drift kind, its own work per series and window (CPU µs, alone): stage-1 adds ${part('add')}, encode ${part('encode')}, decode ${part('decode')}, firing ${part('firing')}`);
}
