/**
 * Retry delays: exponential backoff with "full jitter" (a uniform random delay
 * between 0 and the exponential ceiling), which spreads the retries of many
 * tenants/processes hitting the same Prometheus instead of synchronising them.
 */

export interface BackoffPolicy {
  /** Ceiling before the first retry, in ms. */
  readonly initialMs: number;
  /** Largest ceiling, in ms. */
  readonly maxMs: number;
}

/**
 * Longest Retry-After we obey. A server asking for more (misconfigured, or an
 * HTTP-date far in the future) would otherwise park the tenant's queue, and
 * with it every later batch, for that long.
 */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * Delay before retry number `retry` (1 = the first retry, after the first
 * failed try). `random` returns [0, 1) like Math.random; injected for tests.
 * A server's Retry-After wins when it is longer than the jittered delay.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number,
): number {
  // 2 ** n overflows to Infinity for large n, which Math.min then caps.
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, retry - 1));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/**
 * Waits `ms`, or until `signal` aborts, whichever comes first; never rejects. Retry loops use it
 * so that closing what retries ends the wait at once instead of holding the process open.
 */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * `promise`, or its rejection with the signal's reason once `signal` aborts, whichever comes
 * first: a retry loop's shutdown does not wait out a call that retries on its own (a kafkajs call,
 * ~8 s). The abandoned promise's outcome is then ignored; closing what it calls ends it.
 */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
