import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/sinks/remote-write/token-bucket.ts';

describe('TokenBucket', () => {
  it('allows the burst at once, then paces at the rate (fake clock)', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 200, () => now);
    expect(bucket.take(150)).toBe(0);
    expect(bucket.take(100)).toBe(500); // 50 left, 100 needed: 50 tokens at 100/s
    now += 500;
    expect(bucket.take(100)).toBe(0);
    expect(bucket.available()).toBe(0);
    now += 10_000;
    expect(bucket.available()).toBe(200); // capped at the burst
  });

  it('lets a batch larger than the burst go into debt instead of waiting forever', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 20, () => now);
    expect(bucket.take(50)).toBe(0);
    expect(bucket.available()).toBe(-30);
    expect(bucket.take(5)).toBe(3_500); // pay off 30, then 5 more
    now += 3_500;
    expect(bucket.take(5)).toBe(0);
  });
});
