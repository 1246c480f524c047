import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../../src/operators/aggregations/aggregator.ts';
import { numericInput } from '../../../src/operators/aggregations/numeric-input.ts';

describe('numeric input', () => {
  const invalid = new InvalidInput('x: not a finite number');

  it('takes finite numbers only, scaled', () => {
    const read = numericInput('usage.latency_ms', invalid, { scale: 0.001 });
    expect(read({ usage: { latency_ms: 1500 } })).toBe(1.5);
    expect(read({ usage: { latency_ms: -20 } })).toBe(-0.02);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '12', null, undefined, true, [1]]) expect(read({ usage: { latency_ms: bad } })).toBe(invalid);
    expect(read({})).toBe(invalid);
  });

  it('refuses negatives when told to, and leaves an unscaled value as it is', () => {
    const read = numericInput('tokens', invalid, { nonNegative: true });
    expect(read({ tokens: 0 })).toBe(0);
    expect(read({ tokens: 0.1 + 0.2 })).toBe(0.1 + 0.2);
    expect(read({ tokens: -1 })).toBe(invalid);
    expect(numericInput('tokens', invalid)({ tokens: -1 })).toBe(-1);
  });

  it('gives each reader its own field', () => {
    const readers = ['a', 'b', 'c'].map((field) => numericInput(field, invalid, { scale: 2 }));
    expect(readers.map((read) => read({ a: 1, b: 2, c: 3 }))).toEqual([2, 4, 6]);
  });
});
