/**
 * `npm run bench` (state): bytes per series in stage 2, from a run of 100k series (issue 12's
 * goals: ≤ 200 B per counter series, ≤ 2 KB per 1 %-accurate quantile series), in two places:
 *
 *  - stage 2's memory: the heap (plus Buffers) a WindowMerger holds per series, after a forced GC,
 *    with the series' window open (its pane's partial held) and after the window fired (what a
 *    series keeps between windows: cumulative totals, label values, its key);
 *  - the checkpoint in a real Redis (`redis-server` on loopback, a free port, stopped at the
 *    end): the bytes a full checkpoint sends, and `MEMORY USAGE` of the partition's head and
 *    entries, per series.
 *
 * Partials reach the merger as stage 2 reads them (encoded and decoded as on the partials topic).
 * Quantile series see 50 latencies per window, log-uniform over 10 ms – 10 s (≈ 150 of the
 * sketch's bins in use), the shape of a busy model's latency.
 *
 *   node --import tsx test/bench/state-bench.ts [--series 100000] [--only counter|quantiles]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { metricSchema } from '../../src/config/schema.ts';
import { planMetrics, type SeriesGroupPlan, type Windowing } from '../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';
import { decodePartial, encodePartial, packState } from '../../src/runtime/repartition-codec.ts';
import { RedisCheckpointStore } from '../../src/state/redis-checkpoint-store.ts';
import { startRedis } from '../stack/redis.ts';
import { seededRandom } from '../support/seeded-random.ts';

const { values } = parseArgs({ options: { series: { type: 'string', default: '100000' }, only: { type: 'string' } } });
const SERIES = Number(values.series);
const WINDOW = 10_000;
const CHUNK = 5_000;
const windowing: Windowing = { kind: 'panes', sizeMs: WINDOW, slideMs: WINDOW };
const say = (line: string) => process.stdout.write(`${line}\n`);

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
/**
 * Live heap plus Buffers and typed arrays' memory, after full collections (the backing stores of
 * collected typed arrays are freed by a background sweeper, hence the pauses between them).
 */
async function liveBytes(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

interface Case {
  readonly label: string;
  readonly goal: number;
  readonly metric: Record<string, unknown>;
  readonly recordsPerSeries: number;
  readonly record: (series: number, random: () => number) => Record<string, unknown>;
}

const labels = { series: 'series' };
const cases: Case[] = [
  {
    label: 'counter series',
    goal: 200,
    metric: { name: 'requests_total', type: 'counter', labels },
    recordsPerSeries: 1,
    record: (series) => ({ series: `s${series}` }),
  },
  {
    label: '1 % quantile series',
    goal: 2048,
    metric: { name: 'latency_seconds', type: 'quantiles', value: 'latency_ms', scale: 0.001, quantiles: [0.5, 0.95, 0.99], relative_accuracy: 0.01, labels },
    recordsPerSeries: 50,
    record: (series, random) => ({ series: `s${series}`, latency_ms: 10 * Math.pow(1000, random()) }),
  },
];

const dir = mkdtempSync(join(tmpdir(), 'sluice-state-bench-'));
const redisServer = await startRedis({ dir, logFile: join(dir, 'redis.log') });
const redis = new Redis(redisServer.url, { lazyConnect: false });
try {
  say(`state per series, ${SERIES.toLocaleString('en-US')} series of one metric each (stage-2 memory after GC; a full checkpoint in Redis):`);
  say('                        window open: memory  checkpoint sent  Redis   | between windows: memory  checkpoint sent  Redis   | goal');
  for (const c of cases.filter((k) => values.only === undefined || k.metric.type === values.only)) {
    // Between windows first: a checkpoint with every window open is large, and the packer keeps
    // its buffer, which would count against a measurement taken after it.
    const between = await measure(c, true);
    const open = await measure(c, false);
    const cell = (m: Measured) => `${fmt(m.memory).padStart(13)}  ${fmt(m.sent).padStart(15)}  ${fmt(m.redis).padStart(6)}`;
    say(`${c.label.padEnd(22)}  ${cell(open)}   | ${cell(between).padStart(23)}   | ≤ ${fmt(c.goal)}`);
  }
  say('(bytes per series; "checkpoint sent": head and entries as stage 2 packs them; "Redis": MEMORY USAGE of head and entries)');
} finally {
  redis.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}

interface Measured {
  readonly memory: number;
  readonly sent: number;
  readonly redis: number;
}

/**
 * A fresh merger with SERIES series of `c` (their window fired if `fired`): its live bytes per
 * series, then the bytes per series of a full checkpoint, sent and held in Redis.
 */
async function measure(c: Case, fired: boolean): Promise<Measured> {
  const groups = planMetrics([metricSchema.parse(c.metric)]);
  const merger = new WindowMerger(groups, windowing, { allowedLatenessMs: 0, expireAfterMs: 3_600_000 }, { emit: () => {} });
  const wire = partialsOf(c, groups);
  const before = await liveBytes();
  for (const value of wire) merger.addPartial(decodePartial('', value, groups));
  if (fired) merger.advanceWatermark(WINDOW);
  if (fired && merger.seriesCount !== SERIES) throw new Error(`expected ${SERIES} series, the merger holds ${merger.seriesCount}`);
  const memory = ((await liveBytes()) - before) / SERIES;
  // Used after the measurement, so the messages stay alive through it as through the baseline.
  if (wire.length !== SERIES) throw new Error(`expected ${SERIES} partials, made ${wire.length}`);
  const head = packState(merger.head());
  const put = new Map<string, Buffer>();
  let sent = head.length;
  for (const [field, wire] of merger.changes(true).put) {
    const value = packState(wire);
    put.set(field, value);
    sent += field.length + value.length;
  }
  const pipeline = `${c.metric.name as string}-${fired ? 'between' : 'open'}`;
  const store = new RedisCheckpointStore(redisServer.url, pipeline);
  try {
    const { epoch } = await claimWhenConnected(store);
    if ((await store.save(0, epoch, { head, put, remove: [], replace: true })) !== 'ok') throw new Error('checkpoint fenced');
  } finally {
    await store.close();
  }
  const prefix = `sluice:{${pipeline}:0}`;
  let held = 0;
  for (const key of [`${prefix}:head`, `${prefix}:entries`]) held += Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  await redis.del(`${prefix}:head`, `${prefix}:entries`, `${prefix}:epoch`);
  return { memory, sent: sent / SERIES, redis: held / SERIES };
}

/**
 * The partials of SERIES series of `c`, one message each as stage 2 reads them off the partials
 * topic. Made before the merger's baseline is taken, so what stage 1 keeps (its interned series
 * keys, up to 65,536 per group) and the messages themselves do not count as stage 2's state.
 */
function partialsOf(c: Case, groups: SeriesGroupPlan[]): Buffer[] {
  const pre = new PreAggregator(groups, windowing);
  const random = seededRandom(7);
  const wire: Buffer[] = [];
  for (let from = 0; from < SERIES; from += CHUNK) {
    for (let s = from; s < Math.min(SERIES, from + CHUNK); s++) {
      for (let r = 0; r < c.recordsPerSeries; r++) pre.add('acme', r, c.record(s, random));
    }
    for (const p of pre.drain()) wire.push(encodePartial(p, groups));
  }
  return wire;
}

/** The store fails fast while its connection is not up yet (as in production); wait for it, bounded. */
async function claimWhenConnected(store: RedisCheckpointStore): Promise<{ epoch: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.claim(0);
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function fmt(bytes: number): string {
  return bytes >= 10_000 ? `${(bytes / 1024).toFixed(1)} KiB` : `${Math.round(bytes)} B`;
}
