import { describe, expect, it } from 'vitest';
import type { SendResult } from '../../../src/sinks/remote-write/client.ts';
import { bisectBudget, checkWritten, decide } from '../../../src/sinks/remote-write/retry-policy.ts';
import type { RequestState } from '../../../src/sinks/remote-write/retry-policy.ts';

const base: RequestState = {
  attempt: 1,
  maxAttempts: Number.POSITIVE_INFINITY,
  backoff: { initialMs: 100, maxMs: 10_000 },
  jitter: 0.5,
  samples: 10,
  bisectBudget: 5,
  shuttingDown: false,
  canFallBack: false,
};

const ok: SendResult = { kind: 'success', status: 204 };
const busy: SendResult = { kind: 'retryable', reason: 'http_503', status: 503, error: 'busy' };
const throttled: SendResult = { kind: 'retryable', reason: 'http_429', status: 429, retryAfterMs: 30_000, error: 'slow down' };
const outOfOrder: SendResult = { kind: 'permanent', reason: 'http_400', status: 400, error: 'out of order sample' };
const malformed: SendResult = { kind: 'permanent', reason: 'http_400', status: 400, error: 'snappy: corrupt input' };
const unsupported: SendResult = { kind: 'permanent', reason: 'http_415', status: 415, error: 'unsupported media type' };
const forbidden: SendResult = { kind: 'permanent', reason: 'http_403', status: 403, error: 'no' };
const aborted: SendResult = { kind: 'permanent', reason: 'aborted', error: 'request aborted by the sender' };

describe('decide', () => {
  it.each([
    ['2xx', ok, {}, { kind: 'delivered' }],
    ['2xx during shutdown still counts', ok, { shuttingDown: true }, { kind: 'delivered' }],
    ['503, first try: half the 100 ms ceiling', busy, {}, { kind: 'retry', afterMs: 50 }],
    ['503, fourth try: ceiling 800 ms', busy, { attempt: 4 }, { kind: 'retry', afterMs: 400 }],
    ['503, ceiling capped at max_backoff', busy, { attempt: 30 }, { kind: 'retry', afterMs: 5_000 }],
    ['429 with a longer Retry-After', throttled, {}, { kind: 'retry', afterMs: 30_000 }],
    ['503 at max_attempts', busy, { attempt: 3, maxAttempts: 3 }, { kind: 'give_up', reason: 'http_503' }],
    ['503 during shutdown', busy, { shuttingDown: true }, { kind: 'give_up', reason: 'shutdown' }],
    ['aborted by close()', aborted, { shuttingDown: true }, { kind: 'give_up', reason: 'shutdown' }],
    ['400 out of order, many samples', outOfOrder, {}, { kind: 'bisect', reason: 'out_of_order' }],
    ['400 out of order, one sample', outOfOrder, { samples: 1 }, { kind: 'give_up', reason: 'out_of_order' }],
    ['400 out of order, budget spent', outOfOrder, { bisectBudget: 0 }, { kind: 'give_up', reason: 'out_of_order' }],
    ['400 malformed is never bisected', malformed, {}, { kind: 'give_up', reason: 'malformed' }],
    ['415 to a 2.0 request under auto', unsupported, { canFallBack: true }, { kind: 'fall_back' }],
    ['415 otherwise', unsupported, {}, { kind: 'give_up', reason: 'http_415' }],
    ['403', forbidden, {}, { kind: 'give_up', reason: 'http_403' }],
  ] as const)('%s', (_name, result, state, expected) => {
    expect(decide(result, { ...base, ...state })).toEqual(expected);
  });

  it('budgets about 2·log2(n) bisecting requests and more', () => {
    expect([bisectBudget(1), bisectBudget(2), bisectBudget(2000)]).toEqual([8, 8, 48]);
  });
});

describe('checkWritten', () => {
  it.each([
    ['all confirmed', 10, { samples: 10, histograms: 0, exemplars: 0 }, false, { kind: 'ok' }],
    ['more than sent (histogram counted as samples by some receivers)', 10, { samples: 8, histograms: 2, exemplars: 0 }, false, { kind: 'ok' }],
    ['a shortfall', 10, { samples: 7, histograms: 0, exemplars: 0 }, false, { kind: 'shortfall', missing: 3 }],
    ['no headers, v2 fixed: all missing', 10, undefined, false, { kind: 'shortfall', missing: 10 }],
    ['no headers under auto: a 1.0 receiver', 10, undefined, true, { kind: 'fall_back' }],
    ['zero confirmed under auto: a 1.0 receiver', 10, { samples: 0, histograms: 0, exemplars: 0 }, true, { kind: 'fall_back' }],
    ['partial under auto is a shortfall, not a fallback', 10, { samples: 4, histograms: 0, exemplars: 0 }, true, { kind: 'shortfall', missing: 6 }],
    ['nothing sent', 0, undefined, true, { kind: 'ok' }],
  ] as const)('%s', (_name, sent, written, canFallBack, expected) => {
    expect(checkWritten(sent, written, canFallBack)).toEqual(expected);
  });
});
