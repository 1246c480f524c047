/**
 * What to do with one request's outcome: a pure function of the outcome and the request's
 * state, so every branch is a row in a table test (test/unit/remote-write/retry-policy.test.ts).
 *
 * - 2xx: delivered.
 * - 5xx, 429, timeouts, network errors: retry after a jittered exponential backoff (a longer
 *   Retry-After wins), until retry.max_attempts if set.
 * - 400: Prometheus refuses a whole request for one bad sample, so bisect to deliver the good
 *   ones, within a request budget; a malformed request or a single sample gives up.
 * - 415 to a remote-write 2.0 request under `protocol: auto`: the receiver speaks 1.0 only; fall
 *   back and send the same samples as 1.0.
 * - anything else, or a shutdown: give up, with a reason for the failed-samples counter.
 */
import { backoffDelay } from '../../core/backoff.ts';
import type { BackoffPolicy } from '../../core/backoff.ts';
import type { SendResult, WrittenCounts } from './client.ts';
import { classifyRejection } from './rejection.ts';

export type Decision =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'retry'; readonly afterMs: number }
  | { readonly kind: 'bisect'; readonly reason: string }
  | { readonly kind: 'give_up'; readonly reason: string }
  | { readonly kind: 'fall_back' };

export interface RequestState {
  /** Tries of this request so far, the one that produced the outcome included. */
  readonly attempt: number;
  /** Infinity when retries are unbounded. */
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
  /** A draw in [0, 1) for the backoff jitter. */
  readonly jitter: number;
  /** Samples in the request. */
  readonly samples: number;
  /** Requests left for bisecting this batch. */
  readonly bisectBudget: number;
  readonly shuttingDown: boolean;
  /** The request was remote-write 2.0 under `protocol: auto`. */
  readonly canFallBack: boolean;
}

export function decide(result: SendResult, state: RequestState): Decision {
  if (result.kind === 'success') return { kind: 'delivered' };
  // A request cut by close()'s signal reports 'aborted'; the cause is the shutdown.
  if (state.shuttingDown) return { kind: 'give_up', reason: 'shutdown' };
  if (result.kind === 'permanent') {
    if (result.status === 415 && state.canFallBack) return { kind: 'fall_back' };
    if (result.status === 400) {
      const reason = classifyRejection(result.error);
      const bisect = state.samples > 1 && reason !== 'malformed' && state.bisectBudget > 0;
      return bisect ? { kind: 'bisect', reason } : { kind: 'give_up', reason };
    }
    return { kind: 'give_up', reason: result.reason };
  }
  if (state.attempt >= state.maxAttempts) return { kind: 'give_up', reason: result.reason };
  const jitter = state.jitter;
  return { kind: 'retry', afterMs: backoffDelay(state.backoff, state.attempt, result.retryAfterMs, () => jitter) };
}

/** Bisecting one bad sample out of n takes about 2·log2(n) requests; a batch of only bad samples stops here. */
export function bisectBudget(samples: number): number {
  return 4 * Math.ceil(Math.log2(Math.max(samples, 2))) + 4;
}

export type WrittenCheck =
  | { readonly kind: 'ok' }
  /** Nothing confirmed by a receiver that should have: it took 2.0 for 1.0 and dropped it (auto only). */
  | { readonly kind: 'fall_back' }
  /** Samples the receiver says it did not write. */
  | { readonly kind: 'shortfall'; readonly missing: number };

/**
 * Checks a 2xx answer to a remote-write 2.0 request against what was sent. The 2.0 spec makes
 * the X-Prometheus-Remote-Write-*-Written headers mandatory; a 1.0 receiver that does not check
 * Content-Type answers 2xx without them having written nothing (Prometheus' own sender treats
 * "nothing confirmed" as failure for the same reason).
 */
export function checkWritten(sent: number, written: WrittenCounts | undefined, canFallBack: boolean): WrittenCheck {
  if (sent === 0) return { kind: 'ok' };
  const confirmed = written === undefined ? 0 : written.samples + written.histograms;
  if (confirmed === 0 && canFallBack) return { kind: 'fall_back' };
  return confirmed >= sent ? { kind: 'ok' } : { kind: 'shortfall', missing: sent - confirmed };
}
