import { sleepUnlessAborted } from '../core/backoff.ts';

/** Stops a scheduled job; calling it again does nothing. */
export type Cancel = () => void;

/**
 * Time as the stages see it: the wall clock, wall-clock punctuations, sleeps and the jitter
 * source. Injected (as Kafka Streams' ProcessorContext schedules punctuators) so a unit test can
 * move time by hand and fire every timer deterministically, instead of waiting real seconds.
 * Stream time needs no timer here: it moves with the records (watermarks in the merger).
 */
export interface Scheduler {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `job` every `intervalMs` of wall-clock time until cancelled. */
  schedule(intervalMs: number, job: () => void): Cancel;
  /** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Uniform in [0, 1), for backoff jitter. */
  random(): number;
}

/** The real clock and timers; `now` may be overridden (tests that drive idleness by hand). */
export function systemScheduler(now: () => number = Date.now): Scheduler {
  return {
    now,
    schedule(intervalMs, job) {
      const timer = setInterval(job, intervalMs);
      return () => clearInterval(timer);
    },
    sleep: sleepUnlessAborted,
    random: Math.random,
  };
}
