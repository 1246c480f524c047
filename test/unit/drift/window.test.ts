import { describe, expect, it } from 'vitest';
import { DriftWindow, OVERFLOW_CATEGORY, scoreDrift, scoreDriftAll } from '../../../src/operators/drift/index.ts';
import type { DriftReport, DriftWindowSnapshot } from '../../../src/operators/drift/index.ts';
import { ksTwoSample } from '../../../src/operators/drift/ks.ts';
import { distinctInUnion, valueCounts, type NumericSample } from '../../../src/operators/drift/sample.ts';
import { replaySample } from './replay.ts';

const normal = (seed: number, n: number, loc = 0, scale = 1): number[] => replaySample({ kind: 'normal', seed, n, loc, scale });

function windowOf(values: readonly number[], maxExactValues = 10_000, relativeAccuracy = 0.01): DriftWindow {
  const w = new DriftWindow({ featureType: 'numerical', maxExactValues, relativeAccuracy });
  for (const v of values) w.add(v);
  return w;
}

const roundTrip = (w: DriftWindow): DriftWindow => DriftWindow.restore(JSON.parse(JSON.stringify(w.snapshot())) as DriftWindowSnapshot);
const scores = (report: DriftReport): Record<string, number> => Object.fromEntries(report.results.map((r) => [r.method, r.score]));

describe('DriftWindow', () => {
  it('snapshots afresh after every change, and a restored window snapshots as the snapshot it came from', () => {
    const w = windowOf([3, 1, 2]);
    const first = w.snapshot();
    expect(w.snapshot()).toBe(first);
    w.add(0.5);
    expect(w.snapshot()).toMatchObject({ exact: [[0.5, 1], [1, 1], [2, 1], [3, 1]] });
    w.merge(windowOf([1]));
    expect(w.snapshot()).toMatchObject({ exact: [[0.5, 1], [1, 2], [2, 1], [3, 1]] });
    const restored = DriftWindow.restore(w.snapshot());
    restored.add(9);
    expect(restored.snapshot()).toMatchObject({ exact: [[0.5, 1], [1, 2], [2, 1], [3, 1], [9, 1]] });
    // Out of order (not this class's): the restored window takes its own snapshot.
    const unsorted = { ...w.snapshot(), exact: [[3, 1], [1, 2]] } as DriftWindowSnapshot;
    expect(DriftWindow.restore(unsorted).snapshot()).toMatchObject({ exact: [[1, 2], [3, 1]] });
  });

  it('counts the distinct values of two numerical samples together as pandas would (-0 is 0)', () => {
    const cases: [number[], number[]][] = [[[], []], [[1, 2, 3], []], [[1, 2, 3], [2, 3, 4, 5]], [[-0, 1], [0, 2]], [normal(3, 400).map(Math.round), normal(4, 300, 0.5).map(Math.round)]];
    for (const [a, b] of cases) {
      const ref = windowOf(a).sample();
      const cur = windowOf(b).sample();
      const viaMaps = new Set([...valueCounts(ref).keys(), ...valueCounts(cur).keys()]).size;
      expect(distinctInUnion(ref, cur)).toBe(viaMaps);
    }
  });

  it('merged partial windows score exactly like one window, in any merge order, and survive a snapshot', () => {
    const ref = normal(1, 3000);
    const cur = normal(2, 2000, 0.2);
    const whole = scoreDriftAll(windowOf(ref), windowOf(cur));
    const parts = [windowOf(cur.slice(0, 700)), windowOf(cur.slice(700, 1500)), windowOf(cur.slice(1500))];
    const forward = roundTrip(parts[0]!);
    forward.merge(parts[1]!);
    forward.merge(roundTrip(parts[2]!));
    const backward = windowOf([]);
    for (const p of [...parts].reverse()) backward.merge(p);
    expect(scores(scoreDriftAll(windowOf(ref), forward))).toEqual(scores(whole));
    expect(scores(scoreDriftAll(roundTrip(windowOf(ref)), backward))).toEqual(scores(whole));
    expect(forward.isExact).toBe(true);
  });

  it('merged sketched windows keep the negative values of every part (sketches-js merges only the positive store)', () => {
    const options = { featureType: 'numerical', maxExactValues: 2 } as const;
    const of = (values: number[]) => {
      const window = new DriftWindow(options);
      for (const v of values) window.add(v);
      return window;
    };
    const merged = of([-5, 1, 3]);
    merged.merge(of([-10, 2, 4]));
    expect(merged.isExact).toBe(false);
    expect(merged.sample()).toEqual(of([-5, 1, 3, -10, 2, 4]).sample());
  });

  it('scores categories bit for bit the same in whatever order they arrived (a replay merges partials in another order)', () => {
    // Seeded counts over 8 categories, 3 of them in the reference; before categories were sorted
    // for scoring, some of these 900 scores differed in their last bits between the two orders.
    let seed = 7;
    const draw = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 50) + 1;
    const differ: string[] = [];
    for (let trial = 0; trial < 300; trial++) {
      const counts = Array.from({ length: 8 }, (_, i) => [`c${i}`, draw()] as const);
      const reference = new DriftWindow({ featureType: 'categorical' });
      const [first, second] = [new DriftWindow({ featureType: 'categorical' }), new DriftWindow({ featureType: 'categorical' })];
      for (const [category, n] of counts.slice(0, 3)) reference.add(category, n);
      for (const [category, n] of counts) first.add(category, n);
      for (const [category, n] of [...counts].reverse()) second.add(category, n);
      for (const method of ['psi', 'jensenshannon', 'chisquare'] as const) {
        const a = scoreDrift(reference, first, method).score;
        const b = scoreDrift(reference, second, method).score;
        if (!Object.is(a, b)) differ.push(`${trial} ${method}: ${a} vs ${b}`);
      }
    }
    expect(differ).toEqual([]);
  });

  it('stays exact at any volume while distinct values are few', () => {
    const w = windowOf([], 50);
    for (let i = 0; i < 100_000; i++) w.add(i % 40);
    expect(w.isExact).toBe(true);
    expect(w.size).toBe(100_000);
  });

  it('counts values added past its raw-value buffer (4096) exactly, weights and -0 included, and sketches only past max_exact_values', () => {
    const expected = new Map<number, number>();
    const w = windowOf([], 60);
    for (let i = 0; i < 9_000; i++) {
      const v = i % 7 === 0 ? -0 : ((i * 37) % 50) / 4;
      const weight = i % 11 === 0 ? 2.5 : 1;
      w.add(v, weight);
      expected.set(v, (expected.get(v) ?? 0) + weight);
      if (i === 4_100) expect(w.snapshot()).toMatchObject({ exact: expect.any(Array) });
    }
    const sorted = [...expected].sort((a, b) => a[0] - b[0]);
    expect(w.snapshot()).toMatchObject({ exact: sorted });
    expect(Object.is((w.snapshot() as { exact: [number, number][] }).exact[0]![0], -0)).toBe(false);
    for (let i = 0; i < 11; i++) w.add(100 + i);
    expect(w.isExact).toBe(false);
    expect(w.size).toBe(sorted.reduce((a, [, c]) => a + c, 0) + 11);
  });

  it('takes a reading as add does: past the raw-value buffer, -0, fractions, after a weighted value, once sketched', () => {
    for (const maxExact of [10_000, 30]) {
      const viaAdd = windowOf([], maxExact);
      const viaReading = windowOf([], maxExact);
      for (let i = 0; i < 9_000; i++) {
        const v = i % 7 === 0 ? -0 : i % 5 === 0 ? ((i * 37) % 50) / 4 : (i * 37) % 50;
        if (i === 3_000) {
          viaAdd.add(v, 2);
          viaReading.add(v, 2);
          continue;
        }
        viaAdd.add(v);
        viaReading.addReading(v);
      }
      expect(viaReading.size).toBe(viaAdd.size);
      expect(viaReading.isExact).toBe(maxExact > 30);
      expect(viaReading.snapshot()).toEqual(viaAdd.snapshot());
    }
    expect(() => windowOf([]).addReading(Number.NaN)).toThrow(RangeError);
    const categorical = new DriftWindow({ featureType: 'categorical' });
    categorical.addReading('a');
    expect(categorical.snapshot()).toMatchObject({ counts: [['a', 1]] });
  });

  it('switches to a sketch past max_exact_values and keeps within its stated error', () => {
    const alpha = 0.01;
    const refValues = normal(3, 20_000, 10, 2);
    const curValues = normal(4, 15_000, 10.3, 2);
    const exact = scoreDriftAll(windowOf(refValues, 100_000), windowOf(curValues, 100_000));
    const ref = windowOf(refValues, 1000);
    const cur = windowOf(curValues, 1000);
    expect(ref.isExact).toBe(false);
    expect(cur.isExact).toBe(false);
    const sketched = scoreDriftAll(ref, cur);
    expect(sketched.referenceSize).toBe(20_000);
    expect(sketched.defaultMethod).toBe(exact.defaultMethod);

    // K-S statistic: off by at most the largest sketch-bin share of each sample.
    const refSample = ref.sample() as NumericSample;
    const curSample = cur.sample() as NumericSample;
    const ksBound = maxBinShare(refSample) + maxBinShare(curSample);
    const exactD = ksTwoSample(windowOf(refValues, 100_000).sample() as NumericSample, windowOf(curValues, 100_000).sample() as NumericSample).statistic;
    expect(Math.abs(ksTwoSample(refSample, curSample).statistic - exactD)).toBeLessThanOrEqual(ksBound);
    // Sketch bins are 2α|x| wide: N(10, 2) puts ~4 % of the mass in one bin at α = 0.01, ~0.4 % at 0.001.
    expect(ksBound).toBeGreaterThan(0.05);
    expect(maxBinShare(windowOf(refValues, 1000, 0.001).sample() as NumericSample) * 2).toBeLessThan(0.01);

    // Wasserstein: off by at most α (mean|ref| + mean|cur|), plus the std's error, before normalising.
    const meanAbs = (xs: number[]): number => xs.reduce((a, b) => a + Math.abs(b), 0) / xs.length;
    const std = (xs: number[]): number => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
    };
    const rms = Math.sqrt(refValues.reduce((a, b) => a + b * b, 0) / refValues.length);
    const w = scores(exact).wasserstein! * std(refValues);
    const wBound = (w + alpha * (meanAbs(refValues) + meanAbs(curValues))) / (std(refValues) - alpha * rms) - w / std(refValues);
    expect(Math.abs(scores(sketched).wasserstein! - scores(exact).wasserstein!)).toBeLessThanOrEqual(wBound);

    // The sketch, its merge and its snapshot are deterministic.
    const merged = windowOf(curValues.slice(0, 9000), 1000);
    merged.merge(roundTrip(windowOf(curValues.slice(9000), 1000)));
    expect(scores(scoreDriftAll(roundTrip(ref), merged))).toEqual(scores(sketched));
  });

  it('counts categories past max_categories under one overflow category', () => {
    const w = new DriftWindow({ featureType: 'categorical', maxCategories: 3 });
    for (const c of ['a', 'b', 'c', 'd', 'e', 'a', 'd']) w.add(c);
    expect(w.snapshot()).toMatchObject({ counts: [[OVERFLOW_CATEGORY, 3], ['a', 2], ['b', 1], ['c', 1]] });
    expect(roundTrip(w).snapshot()).toEqual(w.snapshot());
  });

  it('scores one method with a chosen threshold, and refuses a method the feature type lacks', () => {
    const ref = windowOf(normal(5, 400));
    const cur = windowOf(normal(6, 400, 0.5));
    const psi = scoreDrift(ref, cur, 'psi');
    expect(psi).toMatchObject({ method: 'psi', threshold: 0.1, detected: true });
    expect(scoreDrift(ref, cur, 'psi', psi.score + 0.01)).toMatchObject({ score: psi.score, detected: false });
    expect(scoreDrift(ref, cur, 'psi', psi.score).detected).toBe(true);
    const cats = new DriftWindow({ featureType: 'categorical' });
    cats.add('a');
    expect(() => scoreDrift(cats, cats, 'ks')).toThrow('drift method ks does not apply to categorical features');
    expect(() => scoreDrift(ref, cats, 'psi')).toThrow(TypeError);
    expect(scoreDrift(windowOf([]), cur, 'wasserstein')).toMatchObject({ score: Number.NaN, detected: false });
  });

  it('rejects non-finite numbers, bad options and merging unlike windows', () => {
    const w = windowOf([1, 2]);
    expect(() => w.add(3, 0)).toThrow(RangeError);
    expect(() => w.add(Number.NaN)).toThrow(RangeError);
    expect(() => w.add(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => new DriftWindow({ featureType: 'numerical', maxExactValues: 0 })).toThrow(RangeError);
    expect(() => new DriftWindow({ featureType: 'numerical', relativeAccuracy: 1 })).toThrow(RangeError);
    expect(() => w.merge(windowOf([1], 5))).toThrow(TypeError);
    expect(w.size).toBe(2);
  });
});

function maxBinShare(sample: NumericSample): number {
  let previous = 0;
  let max = 0;
  for (const c of sample.cumulativeWeights) {
    max = Math.max(max, c - previous);
    previous = c;
  }
  return max / sample.total;
}
