/**
 * Counting hooks of the remote-write sink, implemented with prom-client by
 * createSinkMetrics() (metrics.ts). All sample counts are *input* samples, as
 * written to the sink (an overflow sample that folded five inputs counts
 * five), so that once everything has settled
 *   received = sent + failed + filtered
 * per tenant. `reason` is a low-cardinality metric label:
 *
 * - failed: `out_of_order`, `out_of_bounds`, `duplicate` (a 400 bisected down
 *   to the bad samples), `bad_request`, `malformed`, `http_<status>` (other
 *   non-retryable answers, or retryable ones after retry.max_attempts),
 *   `network`, `timeout` (after max_attempts), `invalid_sample`,
 *   `backlog_full` (drop_oldest), `too_many_tenants` (default route),
 *   `closed` (written after close), `shutdown` (close deadline), `internal` (bug),
 *   `not_written` (a 2xx whose remote-write 2.0 written-count headers confirm fewer samples than sent);
 * - filtered: `metric_filtered` (allow/deny), `stale_overflow` (stale marker
 *   of a series that was folded into overflow; the overflow series goes on).
 *
 * The first four methods are the original interface; the rest are optional
 * so existing implementations keep compiling.
 */
export interface SenderEvents {
  /** Samples acknowledged by a 2xx. */
  sent(tenant: string, samples: number): void;
  /** Samples given up on. */
  failed(tenant: string, samples: number, reason: string): void;
  /** A batch of `samples` is about to be retried (once per retry). */
  retried(tenant: string, samples: number): void;
  /** The tenant's backlog: samples written and not yet settled (queued or in flight). */
  queued(tenant: string, backlog: number): void;
  /** Samples accepted by write(). */
  received?(tenant: string, samples: number): void;
  /** Samples deliberately not sent. */
  filtered?(tenant: string, samples: number, reason: string): void;
  /** Samples of new series beyond max_active_series, folded into an overflow series. */
  overflowed?(tenant: string, samples: number): void;
  /** Active series (overflow series excluded) after a change. */
  activeSeries?(tenant: string, series: number): void;
  /** One HTTP request finished; `outcome` is `success`, `retryable` or `permanent`. */
  request?(tenant: string, seconds: number, outcome: string, bytes: number): void;
  /** Newest sample timestamp acknowledged, in ms. */
  highestSentTimestamp?(tenant: string, timestampMs: number): void;
  /** The tenant reached (true) or left (false) its backlog bound under policy `block`. */
  blocked?(tenant: string, blocked: boolean): void;
  /** `protocol: auto` found a receiver without remote-write 2.0 and switched the tenant to 1.0. */
  protocolFallback?(tenant: string): void;
}

/** Every hook present: what the sender calls. */
export type AllSenderEvents = Required<SenderEvents>;

export const noopSenderEvents: AllSenderEvents = {
  sent() {},
  failed() {},
  retried() {},
  queued() {},
  received() {},
  filtered() {},
  overflowed() {},
  activeSeries() {},
  request() {},
  highestSentTimestamp() {},
  blocked() {},
  protocolFallback() {},
};

/** Binds an implementation's hooks (class instances included), filling missing ones with no-ops. */
export function completeEvents(events: SenderEvents | undefined): AllSenderEvents {
  if (events === undefined) return noopSenderEvents;
  const out = {} as Record<keyof AllSenderEvents, unknown>;
  for (const name of Object.keys(noopSenderEvents) as (keyof AllSenderEvents)[]) {
    const hook = events[name] as ((...args: unknown[]) => void) | undefined;
    out[name] = typeof hook === 'function' ? hook.bind(events) : noopSenderEvents[name];
  }
  return out as AllSenderEvents;
}
