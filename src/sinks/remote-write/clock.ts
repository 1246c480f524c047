/**
 * Time as the sender sees it: the wall clock for batch ages, series expiry and log limiting, and
 * timers for max_delay and retry backoff. Injected, so tests drive a manual clock instead of
 * waiting real milliseconds (test/unit/remote-write/manual-clock.ts).
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`, unless cancelled first. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

/** Waits `ms` on `clock`, resolving early (never rejecting) when `signal` fires. */
export function sleepOn(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      timer.cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimer(ms, done);
    signal.addEventListener('abort', done, { once: true });
  });
}
