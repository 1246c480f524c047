import type { MetricPoint } from '../../../src/core/metric-model.ts';
import { sampleEmitter } from './flattened.ts';
import { describe, expect, it } from 'vitest';
import { InvalidInput, type Aggregator } from '../../../src/operators/aggregations/aggregator.ts';
import { RollupAggregator, type MemberLast, type MemberSample as MemberRead, type RollupAggregate } from '../../../src/operators/aggregations/rollup.ts';
import type { Windowing } from '../../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger } from '../../../src/operators/windowed-metrics/window-merger.ts';
import { packState, unpackState } from '../../../src/runtime/repartition-codec.ts';
import { buildAcc, permutations, ship, singleGroupPlan, type MemberSample as S } from './member-fixtures.ts';

type Acc = Map<string, MemberLast>;

function aggregator(aggregate: RollupAggregate) {
  return new RollupAggregator('gpu_util', 'value', ['labels.Hostname', 'labels.gpu'], aggregate);
}

function record(host: unknown, gpu: unknown, v: unknown): Record<string, unknown> {
  return { name: 'DCGM_FI_DEV_GPU_UTIL', type: 'gauge', labels: { Hostname: host, gpu, cluster: 'c1' }, value: v };
}

function build(agg: RollupAggregator, samples: readonly S[]): Acc {
  return buildAcc(agg, record, samples);
}

/** The window's value: one gauge point of the rollup's metric at the window end, or none. */
function emit(agg: RollupAggregator, acc: Acc): number | undefined {
  const out: MetricPoint[] = [];
  agg.emit(acc, agg.targets([]), 10_000, 10, 0, out);
  expect(out.length).toBeLessThanOrEqual(1);
  if (out[0]) expect(out[0].metric === agg.metric && out[0].timestampMs === 10_000 && out[0].labels.length === 0).toBe(true);
  return out[0]?.value as number | undefined;
}

const ALL: RollupAggregate[] = ['avg', 'sum', 'min', 'max', 'count'];

describe('RollupAggregator', () => {
  it('takes each member\'s last value in event time, whatever the arrival order; ties go to the larger value', () => {
    const samples: S[] = [
      ['h1', '0', 1_000, 5],
      ['h1', '0', 3_000, 9], // newest of h1/0
      ['h1', '0', 2_000, 7], // arrives late: older, ignored
      ['h1', '1', 4_000, 4],
      ['h1', '1', 4_000, 6], // same time: the larger wins
      ['h2', '0', 500, 1],
    ];
    for (const order of permutations(samples)) {
      const acc = build(aggregator('sum'), order);
      expect([...acc.entries()].sort()).toEqual([
        ['h1\u00010', [3_000, 9]],
        ['h1\u00011', [4_000, 6]],
        ['h2\u00010', [500, 1]],
      ]);
      expect(emit(aggregator('sum'), acc)).toBe(16);
    }
  });

  it('computes avg, sum, min, max and count over the members\' last values', () => {
    const samples: S[] = [
      ['h1', '0', 1_000, 100], // superseded
      ['h1', '0', 2_000, 9],
      ['h1', '1', 2_000, 6],
      ['h2', '0', 2_000, -3],
      ['h2', '1', 2_000, 0.5],
    ];
    const got = Object.fromEntries(ALL.map((a) => [a, emit(aggregator(a), build(aggregator(a), samples))]));
    expect(got).toEqual({ avg: 12.5 / 4, sum: 12.5, min: -3, max: 9, count: 4 });
  });

  it('gives bit-identical values for any arrival order and any split into merged fragments', () => {
    // 0.1 + 0.2 + 0.3 is 0.6000000000000001, 0.3 + 0.2 + 0.1 is 0.6: the sum must not follow arrival order.
    const samples: S[] = [
      ['a', '0', 1_000, 0.3],
      ['b', '0', 1_000, 0.2],
      ['c', '0', 1_000, 0.1],
      ['a', '0', 500, 42], // older than a's 0.3
      ['b', '0', 1_000, 0.15], // tie, smaller
    ];
    const expected = { avg: (0.1 + 0.2 + 0.3) / 3, sum: 0.1 + 0.2 + 0.3, min: 0.1, max: 0.3, count: 3 };
    for (const aggregate of ALL) {
      const agg = aggregator(aggregate);
      for (const order of permutations(samples)) {
        expect(emit(agg, build(agg, order))).toBe(expected[aggregate]);
        for (let i = 0; i <= order.length; i++) {
          const left = build(agg, order.slice(0, i));
          const right = build(agg, order.slice(i));
          const lr = agg.create();
          agg.merge(lr, left);
          agg.merge(lr, right);
          agg.merge(right, left);
          expect(emit(agg, lr)).toBe(expected[aggregate]);
          expect(emit(agg, right)).toBe(expected[aggregate]);
        }
      }
    }
  });

  it('emits nothing for a window without members', () => {
    for (const aggregate of ALL) expect(emit(aggregator(aggregate), aggregator(aggregate).create())).toBeUndefined();
  });

  it('does not change the accumulator it merges from (a pane stays intact for the next hopping window)', () => {
    const agg = aggregator('max');
    const pane = build(agg, [['a', '0', 1_000, 3]]);
    const window = agg.create();
    agg.merge(window, pane);
    agg.merge(window, build(agg, [['a', '0', 2_000, 8]]));
    agg.add(window, agg.read(record('a', '0', 11)) as MemberRead, 3_000);
    expect([...pane]).toEqual([['a\u00010', [1_000, 3]]]);
    expect(emit(agg, window)).toBe(11);
  });

  it('round-trips through encode, msgpack and decode', () => {
    const agg = aggregator('avg');
    for (const acc of [agg.create(), build(agg, [['a', '0', 1_000, 0.1], ['b', '7', 1_700_000_000_123, -2.5e300], ['c', '0', 3, 12]])]) {
      const decoded = agg.decode(unpackState<unknown>(packState(agg.encode(acc))));
      expect(decoded).toEqual(acc);
      expect(agg.encode(decoded)).toEqual(agg.encode(acc));
      expect(emit(agg, decoded)).toBe(emit(agg, acc));
    }
  });

  it('keys members by all member fields; a numeric index and its text are one member', () => {
    const agg = aggregator('count');
    const acc = agg.create();
    for (const [host, gpu, v] of [['h1', 0, 1], ['h1', '0', 2], ['h2', 0, 3], ['h1', 1, 4], ['h1', true, 5]] as const) {
      agg.add(acc, agg.read(record(host, gpu, v)) as MemberRead, 1_000);
    }
    expect([...acc.keys()].sort()).toEqual(['h1\u00010', 'h1\u00011', 'h1\u0001true', 'h2\u00010']);
    expect(emit(agg, acc)).toBe(4);
    // Whatever the member values contain, the value is read back exactly.
    const odd = agg.read(record('x\u0000y', 'z\u0001', 0.1 + 0.2));
    expect(odd).toEqual({ key: 'x\u0000y\u0001z\u0001', value: 0.1 + 0.2 });
    const single = new RollupAggregator('node_temp_max', 'value', ['labels.Hostname'], 'max');
    expect(single.read(record('h1', 'ignored', -0.5))).toEqual({ key: 'h1', value: -0.5 });
    const whole = new RollupAggregator('last', 'value', [], 'sum');
    expect(whole.read(record('h1', 'ignored', 7))).toEqual({ key: '', value: 7 });
  });

  it('rejects values that are not finite numbers and records without member fields, saying which', () => {
    const agg = aggregator('avg');
    const reject = (rec: Record<string, unknown>) => {
      const rejection = agg.read(rec);
      expect(rejection).toBeInstanceOf(InvalidInput);
      return (rejection as InvalidInput).detail;
    };
    expect(reject(record('h1', '0', Number.NaN))).toBe('gpu_util: field "value" is not a finite number (got NaN)');
    expect(reject(record('h1', '0', Number.NEGATIVE_INFINITY))).toBe('gpu_util: field "value" is not a finite number (got -Infinity)');
    expect(reject(record('h1', '0', null))).toBe('gpu_util: field "value" is not a finite number (got null)');
    expect(reject(record('h1', '0', [1]))).toBe('gpu_util: field "value" is not a finite number (got an array)');
    expect(reject({ labels: { Hostname: 'h1', gpu: '0' } })).toBe('gpu_util: field "value" is missing');
    expect(reject(record('h1', undefined, 1))).toBe('gpu_util: member field "labels.gpu" is missing');
    expect(reject(record(null, '0', 1))).toBe('gpu_util: member field "labels.Hostname" is not a string, number or boolean (got null)');
    expect(reject({ value: 1 })).toBe('gpu_util: member field "labels.Hostname" is missing');
    expect(agg.read(record('h1', '0', -4))).not.toBeInstanceOf(InvalidInput); // gauges may be negative
  });

  it('runs through stage 1 and stage 2 over a hopping window: the last value across panes and partitions', () => {
    const windowing: Windowing = { kind: 'panes', sizeMs: 20_000, slideMs: 10_000 };
    const avg = new RollupAggregator('gpu_util_avg', 'value', ['labels.Hostname', 'labels.gpu'], 'avg');
    const max = new RollupAggregator('gpu_util_max', 'value', ['labels.Hostname', 'labels.gpu'], 'max');
    const groups = singleGroupPlan([avg as Aggregator, max as Aggregator]);
    const lines: string[] = [];
    const merger = new WindowMerger(groups, windowing, { allowedLatenessMs: 0, expireAfterMs: 600_000 }, sampleEmitter((_tenant, samples) => lines.push(...samples.map((s) => `${s.labels.find((l) => l.name === '__name__')!.value} ${s.value} @${s.timestampMs}`))));
    const p0 = new PreAggregator(groups, windowing);
    const p1 = new PreAggregator(groups, windowing);
    const add = (pre: PreAggregator, host: string, gpu: string, t: number, v: number) => expect(pre.add('acme', t, record(host, gpu, v))).toBeUndefined();
    add(p0, 'h1', '0', 1_000, 50);
    add(p0, 'h1', '0', 8_000, 70); // h1/0's last in [0, 10s)
    add(p1, 'h2', '0', 4_000, 30);
    ship(merger, groups, p0.drain());
    ship(merger, groups, p1.drain());
    add(p0, 'h1', '0', 12_000, 90); // h1/0's last in [0, 20s) and [10s, 30s)
    add(p1, 'h2', '0', 9_000, 10); // a later flush into the first pane
    ship(merger, groups, p1.drain());
    ship(merger, groups, p0.drain());
    merger.advanceWatermark(30_000);
    expect(lines.sort()).toEqual([
      'gpu_util_avg 40 @10000', // [-10s, 10s): h1/0 70, h2/0 10
      'gpu_util_avg 50 @20000', // [0, 20s): h1/0 90, h2/0 10
      'gpu_util_avg 90 @30000', // [10s, 30s): h1/0 90
      'gpu_util_max 70 @10000',
      'gpu_util_max 90 @20000',
      'gpu_util_max 90 @30000',
    ].sort());
  });
});
