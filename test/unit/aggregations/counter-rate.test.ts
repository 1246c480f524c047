import { emitSamples, sampleEmitter } from './flattened.ts';
import { describe, expect, it } from 'vitest';
import { InvalidInput, type Aggregator } from '../../../src/operators/aggregations/aggregator.ts';
import type { MemberSample as MemberRead } from '../../../src/operators/aggregations/rollup.ts';
import { CounterRateAggregator, type CounterRateOptions, type CounterRateState } from '../../../src/operators/aggregations/counter-rate.ts';
import type { Windowing } from '../../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../../src/operators/windowed-metrics/pre-aggregator.ts';
import { WindowMerger } from '../../../src/operators/windowed-metrics/window-merger.ts';
import { packState, unpackState } from '../../../src/runtime/repartition-codec.ts';
import { buildAcc, permutations, ship, singleGroupPlan, type MemberSample as S } from './member-fixtures.ts';

function aggregator(options: CounterRateOptions = {}) {
  return new CounterRateAggregator('rdma_rx_bytes_total', 'value', ['labels.Hostname', 'labels.gpu'], options);
}

function record(host: string, gpu: string, v: unknown): Record<string, unknown> {
  return { name: 'rdma_rx_bytes', type: 'counter', labels: { Hostname: host, gpu, cluster: 'c1' }, value: v };
}

/** A sample's value is the member's counter value. */
function build(agg: CounterRateAggregator, samples: readonly S[]): CounterRateState {
  return buildAcc(agg, record, samples);
}

function emit(agg: CounterRateAggregator, acc: CounterRateState, timestampMs: number, windowSeconds = 10): number | undefined {
  const out = emitSamples(agg, acc, timestampMs, windowSeconds);
  expect(out.length).toBeLessThanOrEqual(1);
  return out[0]?.value;
}

/** The accumulator with members in key order: Map order is not part of its meaning. */
function canonical(agg: CounterRateAggregator, acc: CounterRateState): unknown {
  const [total, lastEmitMs, members] = agg.encode(acc) as [number, number | null, [string, ...number[]][]];
  return [total, lastEmitMs, [...members].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))];
}

/** The merger's use: each window's pane merged into the series' cumulative accumulator, then emitted. */
function runWindows(agg: CounterRateAggregator, windows: readonly (readonly S[])[], sizeMs = 10_000): (number | undefined)[] {
  const cumulative = agg.create();
  return windows.map((samples, w) => {
    agg.merge(cumulative, build(agg, samples));
    return emit(agg, cumulative, (w + 1) * sizeMs, sizeMs / 1000);
  });
}

describe('CounterRateAggregator', () => {
  it('counts a reset inside a window as a restart from 0, per member, summed over members', () => {
    const agg = aggregator();
    const acc = build(agg, [
      ['h1', '0', 1_000, 10], // first sample ever: 0
      ['h1', '1', 1_000, 100],
      ['h1', '0', 2_000, 15], // +5
      ['h1', '0', 3_000, 3], // reset: +3
      ['h1', '1', 4_000, 130], // +30
      ['h1', '0', 4_000, 8], // +5
    ]);
    const cumulative = agg.create();
    agg.merge(cumulative, acc);
    expect(emit(agg, cumulative, 10_000)).toBe(13 + 30);
  });

  it('bridges window boundaries from each member\'s last sample, including resets and members that skip windows', () => {
    const windows: S[][] = [
      // [0, 10s): a +10; b first seen
      [['a', '0', 1_000, 10], ['a', '0', 9_000, 20], ['b', '0', 5_000, 50]],
      // [10s, 20s): a bridges 20 → 25 (+5), then resets to 4 (+4); c first seen; b silent
      [['a', '0', 11_000, 25], ['c', '0', 12_000, 7], ['a', '0', 15_000, 4]],
      // [20s, 30s): b comes back 50 → 58 (+8), a resets 4 → 2 (+2), c 7 → 10 (+3)
      [['b', '0', 21_000, 58], ['a', '0', 22_000, 2], ['c', '0', 25_000, 10]],
      // [30s, 40s): b resets across the boundary, 58 → 3 (+3)
      [['b', '0', 31_000, 3]],
      // [40s, 50s): nothing at all: the total stays
      [],
    ];
    expect(runWindows(aggregator(), windows)).toEqual([10, 19, 32, 35, 35]);
    expect(runWindows(aggregator({ output: 'rate' }), windows)).toEqual([10 / 10, 9 / 10, 13 / 10, 3 / 10, 0]);
  });

  it('gives the same accumulator and totals however a time-ordered sample sequence is split into fragments', () => {
    const agg = aggregator();
    // Time-ordered, three members; integer resets, and a non-integer counter (seconds) with
    // two resets, whose sums must still be bit-identical.
    const samples: S[] = [
      ['a', '0', 1_000, 100],
      ['b', '0', 1_500, 0.1],
      ['a', '0', 2_000, 180],
      ['c', '1', 2_500, 7],
      ['b', '0', 3_000, 0.30000000000000004],
      ['a', '0', 3_500, 20], // reset
      ['b', '0', 4_000, 0.05], // reset
      ['a', '0', 4_500, 20], // unchanged
      ['b', '0', 5_000, 0.7],
      ['c', '1', 5_500, 9],
      ['b', '0', 6_000, 0.2], // reset
      ['a', '0', 6_500, 35],
      ['b', '0', 7_000, 1.1],
    ];
    const whole = build(agg, samples);
    const expected = canonical(agg, whole);
    const expectedTotal = emit(agg, whole, 10_000);
    // a: 80 + 20 + 0 + 15; b: 0.2 + 0.05 + 0.65 + 0.2 + 0.9, computed as last − first + the values
    // before its resets; c: 2. Members are summed in ascending order of their increase.
    const b = 1.1 - 0.1 + (0.30000000000000004 + 0.7);
    expect(expectedTotal).toBe(2 + b + 115);

    const check = (merged: CounterRateState) => {
      expect(canonical(agg, merged)).toEqual(expected);
      expect(emit(agg, merged, 10_000)).toBe(expectedTotal);
    };
    for (let i = 0; i <= samples.length; i++) {
      const left = () => build(agg, samples.slice(0, i));
      const right = () => build(agg, samples.slice(i));
      // later into earlier, earlier into later, both into a fresh accumulator
      const a = left();
      agg.merge(a, right());
      check(a);
      const b = right();
      agg.merge(b, left());
      check(b);
      const c = agg.create();
      agg.merge(c, left());
      agg.merge(c, right());
      check(c);
      for (let j = i; j <= samples.length; j++) {
        const x = () => build(agg, samples.slice(0, i));
        const y = () => build(agg, samples.slice(i, j));
        const z = () => build(agg, samples.slice(j));
        // (x + y) + z and x + (y + z): associativity
        const xy = x();
        agg.merge(xy, y());
        agg.merge(xy, z());
        check(xy);
        const yz = y();
        agg.merge(yz, z());
        const x2 = x();
        agg.merge(x2, yz);
        check(x2);
        // and in reverse arrival order
        const zyx = z();
        agg.merge(zyx, y());
        agg.merge(zyx, x());
        check(zyx);
      }
    }
  });

  it('gives the same emitted totals across windows for any split of each window\'s samples', () => {
    const windows: S[][] = [
      [['a', '0', 1_000, 5], ['b', '0', 2_000, 40], ['a', '0', 3_000, 9], ['a', '0', 4_000, 1], ['b', '0', 8_000, 45]],
      [['b', '0', 12_000, 2], ['a', '0', 13_000, 6], ['c', '0', 14_000, 3], ['b', '0', 16_000, 10]],
      [['c', '0', 21_000, 9], ['a', '0', 27_000, 8]],
    ];
    const agg = aggregator();
    const expected = runWindows(agg, windows);
    // a: 4 + 1 | 5 | 2; b: 5 | 2 + 8 | -; c: 0 | 0 | 6
    expect(expected).toEqual([10, 25, 33]);
    for (let w = 0; w < windows.length; w++) {
      for (let i = 0; i <= windows[w]!.length; i++) {
        const cumulative = agg.create();
        const got = windows.map((samples, v) => {
          if (v === w) {
            // this window arrives as two flushes, stage 2 merges them into the pane first
            const pane = build(agg, samples.slice(0, i));
            agg.merge(pane, build(agg, samples.slice(i)));
            agg.merge(cumulative, pane);
          } else {
            agg.merge(cumulative, build(agg, samples));
          }
          return emit(agg, cumulative, (v + 1) * 10_000);
        });
        expect(got).toEqual(expected);
      }
    }
  });

  it('sums members\' increases in an order that does not depend on their arrival order', () => {
    const agg = aggregator();
    const members: S[][] = [
      [['a', '0', 1_000, 0], ['a', '0', 2_000, 0.3]],
      [['b', '0', 1_000, 0], ['b', '0', 2_000, 0.1]],
      [['c', '0', 1_000, 0], ['c', '0', 2_000, 0.2]],
    ];
    for (const order of permutations(members)) {
      expect(emit(agg, build(agg, order.flat()), 10_000)).toBe(0.1 + 0.2 + 0.3); // 0.6000000000000001; 0.3 + 0.2 + 0.1 is 0.6
    }
  });

  it('takes out-of-order samples of a counter without resets in any arrival order', () => {
    const agg = aggregator();
    const samples: S[] = [
      ['a', '0', 1_000, 10],
      ['a', '0', 2_000, 12],
      ['a', '0', 3_000, 15],
      ['a', '0', 4_000, 21],
    ];
    for (const order of permutations(samples)) {
      const acc = build(agg, order);
      expect(canonical(agg, acc)).toEqual([0, null, [['a\u00010', 1_000, 10, 4_000, 21, 0]]]);
      expect(emit(agg, acc, 10_000)).toBe(11);
    }
  });

  it('merges a member interleaved across two fragments deterministically, in either order', () => {
    const agg = aggregator();
    // Monotonic: exact (the increase only depends on the first and last sample).
    const odd: S[] = [['a', '0', 1_000, 10], ['a', '0', 3_000, 30], ['a', '0', 5_000, 50]];
    const even: S[] = [['a', '0', 2_000, 20], ['a', '0', 4_000, 40], ['a', '0', 6_000, 60]];
    const oe = build(agg, odd);
    agg.merge(oe, build(agg, even));
    const eo = build(agg, even);
    agg.merge(eo, build(agg, odd));
    expect(canonical(agg, oe)).toEqual(canonical(agg, eo));
    expect(emit(agg, oe, 10_000)).toBe(50);
    // With a reset inside the overlap the summary cannot be exact (the true increase is 35:
    // +10 +10 +10 +2 +3); it is the earlier-starting fragment plus the other's last sample,
    // the same in both orders.
    const withReset1: S[] = [['a', '0', 1_000, 10], ['a', '0', 3_000, 30], ['a', '0', 5_000, 2]];
    const withReset2: S[] = [['a', '0', 2_000, 20], ['a', '0', 4_000, 40], ['a', '0', 6_000, 5]];
    const r12 = build(agg, withReset1);
    agg.merge(r12, build(agg, withReset2));
    const r21 = build(agg, withReset2);
    agg.merge(r21, build(agg, withReset1));
    expect(canonical(agg, r12)).toEqual(canonical(agg, r21));
    expect(emit(agg, r12, 10_000)).toBe(20 + 2 + 3);
  });

  it('keeps the larger of two values at one timestamp of a single-sample member, in either order', () => {
    const agg = aggregator();
    const one = build(agg, [['a', '0', 1_000, 7], ['a', '0', 1_000, 9]]);
    const two = build(agg, [['a', '0', 1_000, 9], ['a', '0', 1_000, 7]]);
    const split = build(agg, [['a', '0', 1_000, 7]]);
    agg.merge(split, build(agg, [['a', '0', 1_000, 9]]));
    for (const acc of [one, two, split]) expect(canonical(agg, acc)).toEqual([0, null, [['a\u00010', 1_000, 9, 1_000, 9, 0]]]);
    // A duplicated sample shared by two fragments (a re-sent record) is counted once.
    const dup = build(agg, [['a', '0', 1_000, 5], ['a', '0', 2_000, 8]]);
    agg.merge(dup, build(agg, [['a', '0', 2_000, 8], ['a', '0', 3_000, 4]]));
    expect(emit(agg, dup, 10_000)).toBe(3 + 4);
  });

  it('divides the increase by the time since the previous emit, so hopping windows get per-second rates', () => {
    const agg = aggregator({ output: 'rate' });
    const cumulative = agg.create();
    agg.merge(cumulative, build(agg, [['a', '0', 1_000, 0], ['a', '0', 9_000, 10]]));
    expect(emit(agg, cumulative, 10_000, 20)).toBe(10 / 20); // first emit: the window's seconds
    agg.merge(cumulative, build(agg, [['a', '0', 12_000, 15]]));
    expect(emit(agg, cumulative, 15_000, 20)).toBe(1); // 5 in the 5 s since the last emit, not 5 / 20
    expect(emit(agg, cumulative, 20_000, 20)).toBe(0);
  });

  it('does not modify the accumulator it merges from; emit collapses spans and keeps the total', () => {
    const agg = aggregator();
    const pane = build(agg, [['a', '0', 1_000, 3], ['a', '0', 2_000, 5]]);
    const before = canonical(agg, pane);
    const into = build(agg, [['a', '0', 500, 1]]);
    agg.merge(into, pane);
    agg.add(into, agg.read(record('a', '0', 9)) as MemberRead, 3_000);
    const fresh = agg.create();
    agg.merge(fresh, pane); // a member new to `into`
    agg.add(fresh, agg.read(record('a', '0', 1)) as MemberRead, 3_000);
    emit(agg, fresh, 10_000);
    expect(canonical(agg, pane)).toEqual(before);
    expect(emit(agg, into, 10_000)).toBe(8);
    expect(canonical(agg, into)).toEqual([8, 10_000, [['a\u00010', 3_000, 9, 3_000, 9, 0]]]);
  });

  it('round-trips through encode, msgpack and decode', () => {
    const agg = aggregator({ output: 'rate' });
    const cumulative = agg.create();
    agg.merge(cumulative, build(agg, [['a', '0', 1_000, 5], ['b', '1', 2_000, 0.25], ['a', '0', 3_000, 2]]));
    emit(agg, cumulative, 10_000);
    agg.merge(cumulative, build(agg, [['a', '0', 11_000, 4], ['c', '2', 12_000, 1e15], ['a', '0', 14_000, 1]]));
    for (const acc of [agg.create(), build(agg, [['z', '9', 5, 1]]), cumulative]) {
      const wire = unpackState<unknown>(packState(agg.encode(acc)));
      const decoded = agg.decode(wire);
      expect(decoded).toEqual(acc);
      expect(agg.encode(decoded)).toEqual(agg.encode(acc));
    }
    const decoded = agg.decode(unpackState<unknown>(packState(agg.encode(cumulative))));
    expect(emit(agg, decoded, 20_000)).toBe(emit(agg, cumulative, 20_000));
  });

  it('forgets members not seen for memberExpiryMs; a returning member starts afresh', () => {
    const windows: S[][] = [[['a', '0', 5_000, 10], ['b', '0', 5_000, 1], ['a', '0', 6_000, 12]], [['b', '0', 15_000, 2]], [['b', '0', 25_000, 3]], [['b', '0', 35_000, 4]], [['a', '0', 45_000, 100], ['b', '0', 45_000, 5]]];
    // a's last sample (6 s) is older than 40 s − 30 s at the fourth emit: gone, its return counts 0.
    expect(runWindows(aggregator({ memberExpiryMs: 30_000 }), windows)).toEqual([2, 3, 4, 5, 6]);
    expect(runWindows(aggregator(), windows)).toEqual([2, 3, 4, 5, 6 + 88]);
    expect(() => aggregator({ memberExpiryMs: 0 })).toThrow(/memberExpiryMs/);
  });

  it('emits nothing until it has seen a sample', () => {
    const agg = aggregator();
    expect(emit(agg, agg.create(), 10_000)).toBeUndefined();
  });

  it('rejects values that are not finite numbers >= 0 and records without member fields, saying which', () => {
    const agg = aggregator();
    const reject = (rec: Record<string, unknown>) => {
      const rejection = agg.read(rec);
      expect(rejection).toBeInstanceOf(InvalidInput);
      return (rejection as InvalidInput).detail;
    };
    expect(reject(record('a', '0', -1))).toBe('rdma_rx_bytes_total: field "value" is negative (a counter is >= 0)');
    expect(reject(record('a', '0', Number.NaN))).toBe('rdma_rx_bytes_total: field "value" is not a finite number (got NaN)');
    expect(reject(record('a', '0', Number.POSITIVE_INFINITY))).toBe('rdma_rx_bytes_total: field "value" is not a finite number (got Infinity)');
    expect(reject(record('a', '0', '12'))).toBe('rdma_rx_bytes_total: field "value" is not a finite number (got a string)');
    expect(reject({ labels: { Hostname: 'a', gpu: '0' } })).toBe('rdma_rx_bytes_total: field "value" is missing');
    expect(reject({ labels: { Hostname: 'a' }, value: 1 })).toBe('rdma_rx_bytes_total: member field "labels.gpu" is missing');
    expect(reject({ labels: { Hostname: { x: 1 }, gpu: '0' }, value: 1 })).toBe(
      'rdma_rx_bytes_total: member field "labels.Hostname" is not a string, number or boolean (got an object)',
    );
    expect(agg.read(record('a', '0', 0))).not.toBeInstanceOf(InvalidInput);
    // A numeric gpu index and its text are the same member.
    const acc = agg.create();
    agg.add(acc, agg.read({ labels: { Hostname: 'a', gpu: 0 }, value: 1 }) as MemberRead, 1_000);
    agg.add(acc, agg.read({ labels: { Hostname: 'a', gpu: '0' }, value: 4 }) as MemberRead, 2_000);
    expect(acc.members.size).toBe(1);
    expect(emit(agg, acc, 10_000)).toBe(3);
  });

  it('runs through stage 1 and stage 2: two partitions, several flushes per pane, the wire, a checkpoint', () => {
    const agg = aggregator();
    const windowing: Windowing = { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 };
    const groups = singleGroupPlan([agg as Aggregator]);
    const run = (checkpointAfterWindow: number | undefined) => {
      const lines: string[] = [];
      const emitter = sampleEmitter((_tenant, samples) => lines.push(...samples.map((s) => `${s.value} @${s.timestampMs}`)));
      const options = { allowedLatenessMs: 0, expireAfterMs: 600_000 };
      let merger = new WindowMerger(groups, windowing, options, emitter);
      const p0 = new PreAggregator(groups, windowing);
      const p1 = new PreAggregator(groups, windowing);
      const add = (pre: PreAggregator, host: string, t: number, v: number) => expect(pre.add('acme', t, record(host, '0', v))).toBeUndefined();
      // window 1: h1 10 → 30 (+20) over two flushes; h2 5 → 2 (reset, +2)
      add(p0, 'h1', 1_000, 10);
      ship(merger, groups, p0.drain());
      add(p0, 'h1', 6_000, 30);
      add(p1, 'h2', 2_000, 5);
      add(p1, 'h2', 7_000, 2);
      ship(merger, groups, p1.drain());
      ship(merger, groups, p0.drain());
      merger.advanceWatermark(10_000);
      if (checkpointAfterWindow === 1) {
        const snapshot = unpackState<ReturnType<WindowMerger['snapshot']>>(packState(merger.snapshot()));
        merger = new WindowMerger(groups, windowing, options, emitter);
        merger.restore(snapshot);
      }
      // window 2: h1 bridges 30 → 31 (+1) then resets to 4 (+4); h2 silent
      add(p0, 'h1', 12_000, 31);
      ship(merger, groups, p0.drain());
      add(p0, 'h1', 18_000, 4);
      ship(merger, groups, p0.drain());
      merger.advanceWatermark(20_000);
      // window 3: h2 comes back 2 → 9 (+7)
      add(p1, 'h2', 25_000, 9);
      ship(merger, groups, p1.drain());
      merger.advanceWatermark(30_000);
      return lines;
    };
    expect(run(undefined)).toEqual(['22 @10000', '27 @20000', '34 @30000']);
    expect(run(1)).toEqual(['22 @10000', '27 @20000', '34 @30000']);
  });
});
