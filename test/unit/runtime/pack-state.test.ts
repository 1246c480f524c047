import { describe, expect, it } from 'vitest';
import { PACK_BUFFER_KEPT_BYTES, packState, unpackState } from '../../../src/runtime/repartition-codec.ts';

describe('packState', () => {
  it('lets go of the buffer a large checkpoint grew: later packs do not keep it alive', () => {
    const large = Array.from({ length: 40_000 }, (_, i) => ['p' + i.toString(36), i * 1.5, 'x'.repeat(64)]);
    const packedLarge = packState(large);
    expect(packedLarge.length).toBeGreaterThan(2 * PACK_BUFFER_KEPT_BYTES);
    const small = [];
    for (let i = 0; i < 50; i++) small.push(packState({ watermark: i, nextSeq: i }));
    // Each result is a view of the buffer it was packed into: none of them holds the large one.
    for (const packed of small) expect(packed.buffer.byteLength).toBeLessThanOrEqual(PACK_BUFFER_KEPT_BYTES);
    expect(unpackState(small[49]!)).toEqual({ watermark: 49, nextSeq: 49 });
    // The large result is whole, and later packs did not write over it.
    expect(unpackState(packedLarge)).toEqual(large);
  });
});
