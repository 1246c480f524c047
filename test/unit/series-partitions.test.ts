import { describe, expect, it } from 'vitest';
import { MAX_REMEMBERED_PARTITIONS, partitionOfSeries, SeriesPartitions } from '../../src/runtime/repartition-codec.ts';

/* Stage 1 remembers each series key's stage-2 partition: the answer must be the hash's, always. */
describe('series partitions', () => {
  it('gives the hashed partition of every key, remembered or not, past the bound', () => {
    const partitions = new SeriesPartitions(6);
    const keys = Array.from({ length: MAX_REMEMBERED_PARTITIONS + 100 }, (_, i) => `0\u0002acme\u0000model-${i}\u0000é`);
    const wrong: string[] = [];
    for (let round = 0; round < 2; round++) for (const key of keys) if (partitions.of(key) !== partitionOfSeries(key, 6)) wrong.push(key);
    expect(wrong).toEqual([]);
    const seen = new Set(keys.slice(0, 600).map((key) => partitions.of(key)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  }, 60_000);
});
