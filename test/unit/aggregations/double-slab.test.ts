import { describe, expect, it } from 'vitest';
import { zeroedDoubles } from '../../../src/operators/aggregations/double-slab.ts';

describe('zeroedDoubles', () => {
  it('hands out zeroed arrays of the asked length that never share a double, across many slabs', () => {
    const arrays: Float64Array[] = [];
    // 17 doubles (a 14-bound histogram) do not divide a 512-double slab: some requests start a new one.
    for (let i = 0; i < 200; i++) {
      const array = zeroedDoubles(17);
      expect(array.length).toBe(17);
      expect(Array.from(array).every((x) => x === 0)).toBe(true);
      array.fill(i + 1);
      arrays.push(array);
    }
    arrays.forEach((array, i) => expect(Array.from(array)).toEqual(new Array(17).fill(i + 1)));
  });

  it('gives an array of its own past half a slab, and a byte view through byteOffset reads only its doubles', () => {
    const large = zeroedDoubles(300);
    expect(large.byteOffset).toBe(0);
    expect(large.buffer.byteLength).toBe(300 * 8);
    const small = zeroedDoubles(3);
    small[1] = 1.5;
    const bytes = new Uint8Array(small.buffer, small.byteOffset, small.byteLength);
    expect(Array.from(new Float64Array(bytes.slice().buffer))).toEqual([0, 1.5, 0]);
  });
});
