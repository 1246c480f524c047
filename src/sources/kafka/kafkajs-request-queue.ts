import { requireKafkajs } from './kafkajs-internals.ts';

/**
 * kafkajs 2.2.4 (its last release) keeps a timer loop running on every broker connection once it
 * has had a response: after each check of its pending requests, its RequestQueue schedules the
 * next check even when nothing is pending, and then at `throttledUntil - now`, a negative delay
 * (the queue is not throttled), so Node fires it after 1 ms, and so on, about a thousand times a
 * second per connection (kafkajs issue #1556; the fix proposed upstream, #1667, was never merged).
 * A pipeline holds a connection per client and broker (both stages' consumers, a transactional
 * producer per source partition, the admin client: 8 in an idle gateway pipeline). Measured on
 * the shipped gateway pipeline: idle, 4.5–5.4 % of a core before and 1.7–3.0 % after (what
 * remains is its requests: fetches, heartbeats, end offsets, stage 1's idle markers, since then
 * one per window; test/bench/idle-bench.ts); under issue 12's load, three pairs run at the same
 * time took 0.987, 0.918 and 0.970 of the CPU per record of the code before.
 *
 * The fix: with nothing pending there is nothing to check, so nothing is scheduled. Requests wait
 * only when the connection is throttled or at its in-flight limit; `push` schedules the check for
 * a request it queues (after the throttle, or in 10 ms), and every response and request timeout
 * checks the queue anyway. With requests pending, kafkajs's own scheduling runs unchanged.
 */

/** The part of kafkajs's RequestQueue the fix reads. */
interface RequestQueue {
  readonly pending: readonly unknown[];
  scheduleCheckPendingRequests(): void;
}

const FIXED = Symbol.for('sluice.kafkajs-request-queue');

/** Installs the fix on kafkajs's RequestQueue (every connection's, made before or after); idempotent. */
export function installRequestQueueFix(): void {
  const { prototype } = requireKafkajs<{ prototype: RequestQueue & { [FIXED]?: true } }>('src/network/requestQueue/index.js');
  if (prototype[FIXED]) return;
  const schedule = prototype.scheduleCheckPendingRequests;
  prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue): void {
    if (this.pending.length > 0) schedule.call(this);
  };
  prototype[FIXED] = true;
}
