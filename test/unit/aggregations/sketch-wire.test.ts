import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '../../../src/core/metric-model.ts';
import { PackedSketch, QuantilesAggregator, type QuantilesAcc } from '../../../src/operators/aggregations/quantiles.ts';
import { decodeSketch, encodeSketch, mergeSketchBytes } from '../../../src/operators/aggregations/sketch-wire.ts';
import { seededRandom } from '../../support/seeded-random.ts';

const QUANTILES = Array.from({ length: 101 }, (_, i) => i / 100);

/** What stage 2 did before this wire: the library's protobuf, merged into a fresh sketch. */
function throughProtobuf(sketch: DDSketch, accuracy: number): DDSketch {
  const fresh = new DDSketch({ relativeAccuracy: accuracy });
  fresh.merge(DDSketch.fromProto(sketch.toProto()));
  return fresh;
}

function sketchOf(values: readonly number[], accuracy = 0.01): DDSketch {
  const sketch = new DDSketch({ relativeAccuracy: accuracy });
  for (const v of values) sketch.accept(v);
  return sketch;
}

const answers = (sketch: DDSketch) => QUANTILES.map((q) => sketch.getValueAtQuantile(q));

describe('sketch wire', () => {
  const random = seededRandom(3);
  const cases: Record<string, number[]> = {
    'log-uniform over three decades (sparse)': Array.from({ length: 50 }, () => 0.01 * Math.pow(1000, random())),
    'many values in one decade (dense)': Array.from({ length: 5000 }, () => 0.1 + random()),
    'negative, zero and positive': Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 0 : (i % 3 === 1 ? -1 : 1) * Math.exp(6 * random()))),
    'one value': [42],
    'zeros only': [0, 0, 0],
  };

  for (const [name, values] of Object.entries(cases)) {
    it(`answers every quantile bit for bit as the protobuf path: ${name}`, () => {
      for (const accuracy of [0.01, 0.001]) {
        const sketch = sketchOf(values, accuracy);
        const decoded = decodeSketch(encodeSketch(sketch), new DDSketch({ relativeAccuracy: accuracy }));
        expect(answers(decoded)).toEqual(answers(throughProtobuf(sketch, accuracy)));
        expect(decoded.count).toBe(values.length);
        // Merged as partials are, a decoded sketch is the original.
        const aggregator = new QuantilesAggregator('q', 'v', [0.5], accuracy);
        const merged = aggregator.create();
        for (const v of values) aggregator.add(merged, v);
        aggregator.merge(merged, aggregator.decode(aggregator.encode(sketchOf(values, accuracy))));
        expect(answers(merged)).toEqual(answers(sketchOf([...values, ...values], accuracy)));
      }
    });
  }

  it('an empty sketch round-trips empty', () => {
    const decoded = decodeSketch(encodeSketch(new DDSketch()), new DDSketch());
    expect(decoded.count).toBe(0);
    expect(encodeSketch(new DDSketch()).length).toBe(11);
  });

  it('is several times smaller than the protobuf for a sparse window, and no larger for a dense one', () => {
    const sparse = sketchOf(cases['log-uniform over three decades (sparse)']!);
    expect(encodeSketch(sparse).length * 3).toBeLessThan(sparse.toProto().length);
    const dense = sketchOf(cases['many values in one decade (dense)']!);
    expect(encodeSketch(dense).length).toBeLessThanOrEqual(dense.toProto().length);
  });

  it('still reads the protobuf form that checkpoints and partials of earlier versions hold', () => {
    const sketch = sketchOf(cases['negative, zero and positive']!);
    const decoded = decodeSketch(sketch.toProto(), new DDSketch());
    expect(answers(decoded)).toEqual(answers(throughProtobuf(sketch, 0.01)));
  });

  it('merges negative values of every partial (sketches-js merges only the positive store)', () => {
    const aggregator = new QuantilesAggregator('q', 'v', [0.5], 0.01);
    const into = aggregator.create();
    aggregator.add(into, -5);
    aggregator.add(into, 1);
    const from = aggregator.create();
    aggregator.add(from, -10);
    aggregator.add(from, 2);
    aggregator.merge(into, from);
    expect(answers(into)).toEqual(answers(sketchOf([-5, 1, -10, 2])));
    expect(into.getValueAtQuantile(0)).toBeCloseTo(-10, 0);
  });

  it('refuses bytes of no known format, truncated or with trailing bytes', () => {
    const bytes = encodeSketch(sketchOf([1, 2, 3]));
    expect(() => decodeSketch(Uint8Array.of(0x07, 1, 2), new DDSketch())).toThrow(RangeError);
    expect(() => decodeSketch(bytes.subarray(0, bytes.length - 4), new DDSketch())).toThrow(RangeError);
    expect(() => decodeSketch(Uint8Array.from([...bytes, 0]), new DDSketch())).toThrow(RangeError);
  });

  describe('packed in stage 2', () => {
    const emitted = (aggregator: QuantilesAggregator, acc: QuantilesAcc) => {
      const out: MetricPoint[] = [];
      aggregator.emit(acc, aggregator.targets([]), 1000, 1, 0, out);
      return out.map((p) => p.value);
    };
    const quantiles = QUANTILES.filter((q) => q > 0 && q < 1);

    for (const [name, values] of Object.entries(cases)) {
      it(`partials merged packed, in any order, answer bit for bit as one sketch of all their records: ${name}`, () => {
        for (const accuracy of [0.01, 0.001]) {
          const aggregator = new QuantilesAggregator('q', 'v', quantiles, accuracy);
          const parts = [0, 1, 2].map((k) => values.filter((_, i) => i % 3 === k));
          const wires = parts.map((part) => aggregator.encode(sketchOf(part, accuracy)));
          const whole = sketchOf(values, accuracy);
          for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
            const into = aggregator.decode(wires[order[0]!]!);
            expect(into).toBeInstanceOf(PackedSketch);
            for (const k of order.slice(1)) aggregator.merge(into, aggregator.decode(wires[k]!));
            expect(emitted(aggregator, into)).toEqual(emitted(aggregator, whole));
            // The same bytes encodeSketch writes for the sketch of all the records.
            expect(aggregator.encode(into)).toEqual(encodeSketch(whole));
            // A window's copy at firing: packed partials merged into a fresh sketch.
            const copy = aggregator.create();
            for (const k of order) aggregator.merge(copy, aggregator.decode(wires[k]!));
            expect(answers(copy as DDSketch)).toEqual(answers(whole));
          }
          // A stage-1 sketch merged into a packed one, and a packed one into a stage-1 sketch.
          const packed = aggregator.decode(wires[0]!);
          aggregator.merge(packed, sketchOf([...parts[1]!, ...parts[2]!], accuracy));
          expect(emitted(aggregator, packed)).toEqual(emitted(aggregator, whole));
        }
      });
    }

    it('keeps its own copy of the bytes, not a view of the message they came in', () => {
      const aggregator = new QuantilesAggregator('q', 'v', [0.5, 0.99], 0.01);
      // A Buffer, as msgpack reads bytes from a message: its own `slice` would share the memory.
      const message = Buffer.from(encodeSketch(sketchOf([1, 2, 3, 40])));
      const packed = aggregator.decode(message);
      const before = emitted(aggregator, packed);
      message.fill(0, 9);
      expect(emitted(aggregator, packed)).toEqual(before);
      expect((packed as PackedSketch).bytes.buffer).not.toBe(message.buffer);
    });

    it('still decodes the protobuf form of earlier versions, into a sketch', () => {
      const aggregator = new QuantilesAggregator('q', 'v', [0.5], 0.01);
      const sketch = sketchOf(cases['negative, zero and positive']!);
      const decoded = aggregator.decode(sketch.toProto());
      expect(decoded).toBeInstanceOf(DDSketch);
      expect(emitted(aggregator, decoded)).toEqual(emitted(aggregator, throughProtobuf(sketch, 0.01)));
    });

    it('refuses bytes of no known format, truncated or with trailing bytes when decoded, not when fired', () => {
      const aggregator = new QuantilesAggregator('q', 'v', [0.5], 0.01);
      const bytes = encodeSketch(sketchOf([1, 2, 3]));
      expect(() => aggregator.decode(Uint8Array.of(0x02, 1, 2))).toThrow(RangeError);
      expect(() => aggregator.decode(bytes.subarray(0, bytes.length - 4))).toThrow(RangeError);
      expect(() => aggregator.decode(Uint8Array.from([...bytes, 0]))).toThrow(RangeError);
    });

    it('merges sparse bins written out of key order (not by encodeSketch) as the store adds them', () => {
      // Sparse positive store: keys 30, 10, 30 (counts 1, 2, 3); empty negative store.
      const bytes = new Uint8Array(9 + 5 + 3 * 12 + 1);
      const view = new DataView(bytes.buffer);
      bytes[0] = 0x02;
      view.setUint8(9, 2);
      view.setUint32(10, 3, true);
      [[30, 1], [10, 2], [30, 3]].forEach(([key, count], i) => {
        view.setInt32(14 + 12 * i, key!, true);
        view.setFloat64(18 + 12 * i, count!, true);
      });
      const other = encodeSketch(sketchOf([1, 2]));
      const merged = decodeSketch(mergeSketchBytes(bytes, other), new DDSketch());
      const expected = decodeSketch(other, new DDSketch());
      expected.merge(decodeSketch(bytes, new DDSketch()));
      expect(merged.count).toBe(8);
      expect(answers(merged)).toEqual(answers(expected));
    });
  });
});
