import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { DriftAggregator } from '../../../src/operators/drift/aggregation.ts';
import { DriftWindow, scoreDriftAll, type DriftWindowOptions } from '../../../src/operators/drift/index.ts';
import { encodeExactWindow } from '../../../src/operators/drift/window-bytes.ts';
import { countedRuns, EMPTY_COUNTS, mergeSorted, runningSums, slideBuffers, slideSorted, sortedRuns } from '../../../src/operators/drift/sorted-counts.ts';
import { seededRandom } from '../../support/seeded-random.ts';

const packr = new Packr({ useRecords: false });
/** Through msgpack as the partials topic and checkpoints carry it (bytes come back at an odd offset of a larger buffer). */
const viaMsgpack = (wire: unknown): unknown => (packr.unpack(packr.pack([1, wire])) as [number, unknown])[1];

function windowOf(values: readonly number[], options: DriftWindowOptions): DriftWindow {
  const w = new DriftWindow(options);
  for (const v of values) w.add(v);
  return w;
}

const random = seededRandom(7);
const whole = Array.from({ length: 400 }, () => Math.round(-50 + 900 * random() * random()));
const fractional = Array.from({ length: 3000 }, () => (random() - 0.3) * 1000);

describe('drift window wire (version 2)', () => {
  for (const [name, values, options] of [
    ['exact', whole, { featureType: 'numerical', maxExactValues: 10_000 }],
    ['sketched', fractional, { featureType: 'numerical', maxExactValues: 100, relativeAccuracy: 0.02 }],
  ] as const) {
    it(`${name}: bytes round-trip to a window that scores, snapshots and merges like the original`, () => {
      const w = windowOf([...values, 0, 0], options);
      expect(w.isExact).toBe(name === 'exact');
      const wire = viaMsgpack(w.wire());
      expect(wire).toBeInstanceOf(Uint8Array);
      const back = DriftWindow.fromWire(wire, w.options);
      expect(back.size).toBe(w.size);
      expect(back.isExact).toBe(w.isExact);
      expect(back.sample()).toEqual(w.sample());
      // A sketch's bins may sit at another offset of its store: same counts per key, so same sample.
      if (w.isExact) expect(back.snapshot()).toEqual(w.snapshot());
      expect(DriftWindow.fromWire(viaMsgpack(back.wire()), w.options).sample()).toEqual(w.sample());
      expect(scoreDriftAll(back, windowOf(values.slice(0, 50), options))).toEqual(scoreDriftAll(w, windowOf(values.slice(0, 50), options)));
      // Merging into the decoded window or adding to it leaves the encoded bytes as they were.
      const bytes = Uint8Array.from(w.wire() as Uint8Array);
      back.merge(windowOf([1, 2, 3], options));
      back.add(5);
      expect(w.wire()).toEqual(bytes);
      expect(back.size).toBe(w.size + 4);
    });
  }

  it('a version-1 partial (plain pairs without options) still decodes through the aggregator', () => {
    const aggregator = new DriftAggregator({
      name: 'd', value: 'x', feature: 'numerical', methods: ['default'], reference: { type: 'trailing_windows', windows: 2 },
      maxExactValues: 10_000, relativeAccuracy: 0.01, maxCategories: 10_000,
    });
    const w = windowOf(whole, { featureType: 'numerical' });
    const { options: _options, ...v1 } = w.snapshot();
    expect(aggregator.decode(viaMsgpack(v1)).sample()).toEqual(w.sample());
    expect(aggregator.decode(viaMsgpack(aggregator.encode(w))).sample()).toEqual(w.sample());
    // A version-1 reference state (whole snapshots, options included) too.
    const state = aggregator.decodeSeriesState(viaMsgpack([[w.snapshot()], 0]));
    expect(state.windows[0]!.sample()).toEqual(w.sample());
  });

  it('rejects bytes that are not a window it wrote', () => {
    const options = new DriftWindow({ featureType: 'numerical' }).options;
    const good = windowOf([1, 2, 3], options).wire() as Uint8Array;
    const floats = (xs: number[]) => new Uint8Array(Float64Array.from(xs).buffer);
    expect(() => DriftWindow.fromWire(good.subarray(0, 12), options)).toThrow(TypeError);
    expect(() => DriftWindow.fromWire(floats([3, 0, 0]), options)).toThrow(TypeError);
    expect(() => DriftWindow.fromWire(floats([2, 0, 2, 1, 2, 1]), options)).toThrow(TypeError);
    expect(() => DriftWindow.fromWire(floats([2, 0, 2, 2, 1, 1, 1]), options)).toThrow(RangeError);
    expect(() => DriftWindow.fromWire(floats([2, 0, 1, Number.NaN, 1]), options)).toThrow(RangeError);
    expect(() => DriftWindow.fromWire(floats([2, 0, 1, 4, -1]), options)).toThrow(RangeError);
    expect(() => DriftWindow.fromWire(good, new DriftWindow({ featureType: 'categorical' }).options)).toThrow(TypeError);
  });

  it('sketches an exact window written under a larger max_exact_values', () => {
    const wide = windowOf(whole, { featureType: 'numerical', maxExactValues: 10_000 });
    const narrow = DriftWindow.fromWire(wide.wire(), new DriftWindow({ featureType: 'numerical', maxExactValues: 20 }).options);
    expect(narrow.isExact).toBe(false);
    expect(narrow.size).toBe(wide.size);
  });
});

describe('sorted counts', () => {
  const mapOf = (values: readonly number[]) => {
    const map = new Map<number, number>();
    for (const v of values) map.set(v, (map.get(v) ?? 0) + 1);
    return map;
  };

  /** The sorted form's values and counts (a settled form also carries the wire buffer they are views of). */
  const sortedOf = (values: readonly number[]) => {
    const { values: v, counts } = sortedRuns(values, null);
    return { values: v, counts };
  };

  it('sorts raw values (with weights: its own quicksort) like a typed-array sort, at every size around the insertion-sort cutoff', () => {
    for (const n of [0, 1, 2, 15, 16, 17, 18, 100, 5000]) {
      const raw = Array.from({ length: n }, () => Math.round((random() - 0.5) * 1e3) + 0); // + 0: no -0 (the window folds it before)
      const map = mapOf(raw);
      const { values, counts } = sortedRuns(Float64Array.from(raw), Float64Array.from(raw, () => 1));
      expect(values).toEqual(Float64Array.from(map.keys()).sort());
      expect(Array.from(values, (v) => map.get(v))).toEqual(Array.from(counts));
      expect(sortedOf(raw)).toEqual({ values, counts });
    }
  });

  it('a settled or decoded exact window hands out its sorted buffer as the wire bytes, equal to a fresh encoding', () => {
    const w = windowOf(whole, { featureType: 'numerical' });
    const bytes = w.wire() as Uint8Array;
    const { values, counts } = w.sample().kind === 'numerical' ? sortedOf(whole) : { values: new Float64Array(0), counts: new Float64Array(0) };
    expect(bytes).toEqual(encodeExactWindow({ values, counts }));
    const message = viaMsgpack(bytes) as Uint8Array;
    const back = DriftWindow.fromWire(message, w.options);
    const again = back.wire() as Uint8Array;
    expect(again).toEqual(bytes);
    // The decoded window's bytes are an aligned copy, not the message's buffer (a small one on a shared slab).
    expect(again.byteOffset % 8).toBe(0);
    expect(again.buffer).not.toBe(message.buffer);
    const small = DriftWindow.fromWire(viaMsgpack(windowOf([1, 2, 2, 7], { featureType: 'numerical' }).wire()), w.options);
    expect((small.wire() as Uint8Array).byteOffset % 8).toBe(0);
    expect(small.sample()).toEqual(windowOf([7, 2, 1, 2], { featureType: 'numerical' }).sample());
    expect(back.sample()).toEqual(windowOf(whole, { featureType: 'numerical' }).sample());
  });

  it('hands a stage-1 window\'s bytes out once from scratch memory, equal to its wire form, and leaves the window as it was', () => {
    const options: DriftWindowOptions = { featureType: 'numerical', maxExactValues: 500 };
    const cases = [whole, fractional.slice(0, 300), [3, 3, 3], fractional.slice(0, 800)];
    for (const values of cases) {
      const once = windowOf(values, options);
      const first = Uint8Array.from(once.wireOnce() as Uint8Array);
      // Another window's call reuses the scratch; this window's bytes come out the same again.
      windowOf([9, 8, 7], options).wireOnce();
      expect(Uint8Array.from(once.wireOnce() as Uint8Array)).toEqual(first);
      expect(first).toEqual(windowOf(values, options).wire());
      expect(once.wire()).toEqual(first);
    }
    // The last case has more than max_exact_values distinct values: sketched, as wire() does.
    expect(windowOf(fractional.slice(0, 800), options).isExact).toBe(false);
    // Weighted, decoded and categorical windows hand out their wire form.
    const weighted = new DriftWindow(options);
    weighted.add(2, 1.5);
    weighted.add(1);
    expect(weighted.wireOnce()).toEqual(weighted.wire());
    const decoded = DriftWindow.fromWire(viaMsgpack(windowOf(whole, options).wire()), windowOf([], options).options);
    expect(decoded.wireOnce()).toBe(decoded.wire());
    const categorical = new DriftWindow({ featureType: 'categorical' });
    categorical.add('a');
    expect(categorical.wireOnce()).toEqual(categorical.wire());
  });

  it('counts whole values in a narrow span exactly as sorting them gives, and leaves wide spans to the sort', () => {
    for (const [n, span, offset] of [[1, 1, 0], [100, 800, 40], [100, 40, -20], [500, 4000, -(2 ** 40)], [3, 7, 2 ** 52 - 8]] as const) {
      const raw = Array.from({ length: n }, () => offset + Math.floor(random() * span));
      const min = Math.min(...raw);
      const max = Math.max(...raw);
      const counted = countedRuns(raw, min, max);
      expect(counted).toBeDefined();
      expect({ values: counted!.values, counts: counted!.counts }).toEqual(sortedOf(raw));
      expect(encodeExactWindow(counted!)).toEqual(encodeExactWindow(sortedOf(raw)));
    }
    // A second call starts from a clean tally.
    expect(Array.from(countedRuns([5, 5, 6], 5, 6)!.counts)).toEqual([2, 1]);
    expect(countedRuns([0, 10_000], 0, 10_000)).toBeUndefined();
    expect(countedRuns([2 ** 53, 2 ** 53 + 2], 2 ** 53, 2 ** 53 + 2)).toBeUndefined();
  });

  it('merges and slides by walking, as a map would', () => {
    const a = whole.slice(0, 200);
    const b = whole.slice(200);
    const union = mergeSorted(sortedOf(a), sortedOf(b));
    expect(union).toEqual(sortedOf(whole));
    const into = slideBuffers();
    const rest = slideSorted(union, sortedOf(b), EMPTY_COUNTS, into)!;
    expect({ values: rest.values, counts: rest.counts }).toEqual(sortedOf(a));
    // Out b, in b again: the union, with its running sums.
    const back = slideSorted(rest, EMPTY_COUNTS, sortedOf(b), slideBuffers())!;
    expect({ values: back.values, counts: back.counts }).toEqual(union);
    expect(back.cumulative).toEqual(runningSums(union.counts));
    // A removed value not held, or held fewer times, is refused (the caller rebuilds).
    expect(slideSorted(sortedOf(a), sortedOf([1e9]), EMPTY_COUNTS, into)).toBeUndefined();
    expect(slideSorted(sortedOf([1]), sortedOf([1, 1]), EMPTY_COUNTS, into)).toBeUndefined();
  });
});

describe('drift window restore after the feature changed type', () => {
  it('refuses a version-1 categorical window restored as numerical (its categories would land in the numerical windows\' shared empty map)', () => {
    const categorical = new DriftWindow({ featureType: 'categorical' });
    categorical.add('gpt-4o', 3);
    const numericalOptions = { ...new DriftWindow({ featureType: 'numerical' }).options };
    const { options: _categoricalOptions, ...v1 } = categorical.snapshot();
    expect(() => DriftWindow.fromWire(v1, numericalOptions as Required<DriftWindowOptions>)).toThrow(TypeError);
  });
});
