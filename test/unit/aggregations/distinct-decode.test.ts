import { describe, expect, it } from 'vitest';
import { DistinctAggregator } from '../../../src/operators/aggregations/distinct.ts';

const distinct = new DistinctAggregator('users', 'user', 10);

describe('distinct sketch decode', () => {
  it('round-trips its own registers', () => {
    const acc = distinct.create();
    for (let i = 0; i < 500; i++) distinct.add(acc, `user-${i}`);
    const back = distinct.decode(distinct.encode(acc));
    expect(back.registers).toEqual(acc.registers);
    expect(back.estimate()).toBe(acc.estimate());
  });

  it('refuses registers of another precision, a rank no hash gives, and non-bytes', () => {
    expect(() => distinct.decode(new Uint8Array(512))).toThrow(/512 registers, expected 1024/);
    expect(() => distinct.decode(new Uint8Array(2048))).toThrow(RangeError);
    const corrupt = new Uint8Array(1024);
    corrupt[7] = 24; // precision 10 ranks are 1..23
    expect(() => distinct.decode(corrupt)).toThrow(/register 7 holds rank 24/);
    expect(() => distinct.decode([1, 2, 3])).toThrow(/not bytes/);
    expect(() => distinct.decode(null)).toThrow(RangeError);
  });
});
