import { describe, expect, it } from 'vitest';
import { backoffDelay, MAX_RETRY_AFTER_MS } from '../../../src/core/backoff.ts';

const policy = { initialMs: 100, maxMs: 1_000 };

describe('backoffDelay', () => {
  it('doubles the ceiling per retry up to max_backoff (random just below 1 = the ceiling)', () => {
    const top = () => 0.999_999_9;
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((retry) => backoffDelay(policy, retry, undefined, top))).toEqual([
      99, 199, 399, 799, 999, 999, 999, 999,
    ]);
  });

  it('applies full jitter: the delay is random × ceiling', () => {
    expect(backoffDelay(policy, 1, undefined, () => 0)).toBe(0);
    expect(backoffDelay(policy, 1, undefined, () => 0.5)).toBe(50);
    expect(backoffDelay(policy, 3, undefined, () => 0.25)).toBe(100);
    expect(backoffDelay(policy, 9, undefined, () => 0.25)).toBe(250);
  });

  it('honours a Retry-After that is longer than the jittered delay, even beyond max_backoff', () => {
    expect(backoffDelay(policy, 1, 5_000, () => 0.5)).toBe(5_000);
    expect(backoffDelay(policy, 4, 10, () => 0.5)).toBe(400); // shorter Retry-After: backoff wins
  });

  it('caps an absurd Retry-After', () => {
    expect(backoffDelay(policy, 1, 24 * 3_600_000, () => 0.5)).toBe(MAX_RETRY_AFTER_MS);
    expect(MAX_RETRY_AFTER_MS).toBe(300_000);
  });
});
