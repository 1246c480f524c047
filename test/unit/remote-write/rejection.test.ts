import { describe, expect, it } from 'vitest';
import { classifyRejection } from '../../../src/sinks/remote-write/rejection.ts';

describe('classifyRejection', () => {
  it("reads Prometheus' 400 texts (as returned by 2.42, pinned in sink-bisect.test.ts)", () => {
    expect(classifyRejection('out of order sample')).toBe('out_of_order');
    expect(classifyRejection('out of bounds')).toBe('out_of_bounds');
    expect(classifyRejection('duplicate sample for timestamp')).toBe('duplicate');
    expect(classifyRejection('too old sample')).toBe('out_of_bounds');
  });

  it('reads Mimir / Cortex and VictoriaMetrics texts', () => {
    expect(classifyRejection('failed pushing to ingester: user=acme: the sample has been rejected because another sample with a more recent timestamp has already been ingested and out-of-order samples are not allowed (err-mimir-sample-out-of-order)')).toBe('out_of_order');
    expect(classifyRejection('user=acme: the sample has been rejected because its timestamp is too old (err-mimir-sample-timestamp-too-old)')).toBe('out_of_bounds');
    expect(classifyRejection('err-mimir-sample-duplicate-timestamp')).toBe('duplicate');
    expect(classifyRejection('cannot decompress request with length 12: snappy: corrupt input')).toBe('malformed');
    expect(classifyRejection('cannot unmarshal WriteRequest: unexpected EOF')).toBe('malformed');
    expect(classifyRejection('received a series with an invalid label')).toBe('bad_request');
  });
});
