import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { QuantilesAggregator } from '../../../src/operators/aggregations/quantiles.ts';
import { decodeSketch, encodeSketch } from '../../../src/operators/aggregations/sketch-wire.ts';
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
});
