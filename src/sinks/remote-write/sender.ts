/**
 * One tenant's sending side, assembled from parts with one job each:
 *
 *   write(), writePoints()
 *           ─► series-catalog.ts (normalise, limit, allow/deny; once per series, cached)
 *           ─► intake.ts         (each sample admitted, folded or counted; points flattened on the way)
 *           ─► shard-batcher.ts  (a sample-ring.ts queue per shard, batches, max_delay timers)
 *           ─► delivery.ts       (request-encoder.ts per protocol, retry-policy.ts, 400 bisect, 2.0 → 1.0 fallback)
 *           ─► settlement.ts     (every sample settled once; onSettled, flush)
 *
 * Time comes from an injected clock.ts, so tests drive it by hand.
 *
 * Retries: 5xx, 429, timeouts and network errors are retried with jittered exponential backoff
 * (honouring Retry-After) until delivered, or until retry.max_attempts if set. Only the shard's
 * own queue waits meanwhile; the tenant's backlog bound and policy cap what piles up behind it,
 * and other tenants are separate senders with their own connection pools.
 */
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { MetricPoint } from '../../core/metric-model.ts';
import type { Label, Sample } from '../../core/types.ts';
import { isHistogramSample } from '../prometheus/histogram-sample.ts';
import { keepsWhole, SampleFlattener } from '../prometheus/flatten.ts';
import { resolveEndpoint, scrubSecrets } from '../http/secrets.ts';
import type { Environment, ResolvedEndpoint } from '../http/secrets.ts';
import { createDispatcher, sendWriteRequest } from './client.ts';
import { systemClock } from './clock.ts';
import type { Clock } from './clock.ts';
import type { RemoteWriteConfig } from './config.ts';
import { Delivery } from './delivery.ts';
import type { SendFunction } from './delivery.ts';
import { completeEvents } from './events.ts';
import type { AllSenderEvents, SenderEvents } from './events.ts';
import { LogLimiter } from './log-limiter.ts';
import { Intake } from './intake.ts';
import { ProtocolChoice } from './protocol-choice.ts';
import { compileMetricPatterns, SeriesCatalog } from './series-catalog.ts';
import type { Resolution } from './series-catalog.ts';
import { DEFAULT_LABEL_LIMITS } from './series.ts';
import { Settlement } from './settlement.ts';
import type { SettleCallback, SettleKind, Ticket } from './settlement.ts';
import { ShardBatcher } from './shard-batcher.ts';
import { TokenBucket } from './token-bucket.ts';

export { noopSenderEvents, type SenderEvents } from './events.ts';
export type { SendFunction } from './delivery.ts';
export type { SettleCallback, WriteOutcome } from './settlement.ts';

/** A tenant's settings: the remote-write part plus, optionally, what the tenant registry adds. */
export type TenantSenderConfig = Omit<RemoteWriteConfig, 'protocol' | 'histograms'> & {
  /** Wire protocol; default v1. */
  readonly protocol?: RemoteWriteConfig['protocol'];
  /** Histogram encoding; default classic. */
  readonly histograms?: RemoteWriteConfig['histograms'];
  readonly extra_labels?: Readonly<Record<string, string>>;
  readonly metrics?: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly limits?: {
    readonly max_active_series?: number | undefined;
    readonly max_samples_per_second?: number | undefined;
    readonly series_ttl: number;
    readonly max_label_name_length: number;
    readonly max_label_value_length: number;
    readonly max_labels_per_series: number;
  };
};

export interface TenantSenderOptions {
  readonly tenant: string;
  readonly config: TenantSenderConfig;
  readonly logger: Logger;
  readonly events?: SenderEvents;
  /** Resolved headers/TLS; default: resolved from `config` and `env`. */
  readonly endpoint?: ResolvedEndpoint;
  /** Where secrets are read from when `endpoint` is not given; default process.env. */
  readonly env?: Environment;
  /** The HTTP call; defaults to sendWriteRequest. Injected by tests. */
  readonly send?: SendFunction;
  /** Jitter source in [0, 1); defaults to Math.random. Injected by tests. */
  readonly random?: () => number;
  /** Time and timers; defaults to the system clock. Injected by tests. */
  readonly clock?: Clock;
  /** Called when the tenant enters or leaves the blocked state (policy `block`). */
  readonly onBlockedChange?: (tenant: string, blocked: boolean) => void;
}

export class TenantSender {
  readonly tenant: string;
  readonly config: TenantSenderConfig;
  private readonly log: Logger;
  private readonly limiter: LogLimiter;
  private readonly events: AllSenderEvents;
  private readonly clock: Clock;
  private readonly onBlockedChange: ((tenant: string, blocked: boolean) => void) | undefined;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly catalog: SeriesCatalog;
  private readonly settlement: Settlement;
  private readonly batcher: ShardBatcher;
  private readonly delivery: Delivery;
  private readonly dropOldest: boolean;
  private readonly maxBacklog: number;
  private readonly sweepEveryMs: number;
  private readonly intake: Intake;
  private readonly flattener = new SampleFlattener();
  /** writePoints(): whether histograms go whole, and each point's series resolutions (reused). */
  private readonly wholeHistograms: boolean;
  private readonly plans: (readonly Resolution[])[] = [];

  /** Writes up to this sequence number are flushed now, whatever their batch's age. */
  private flushSeq = 0;
  private blocked = false;
  private nextSweepAt = 0;
  private closed = false;
  /** Fires when close() is cut short: aborts the requests in flight and the backoff sleeps. */
  private readonly shutdown = new AbortController();

  constructor(options: TenantSenderOptions) {
    this.tenant = options.tenant;
    const config = (this.config = options.config);
    const clock = (this.clock = options.clock ?? systemClock);
    this.events = completeEvents(options.events);
    this.onBlockedChange = options.onBlockedChange;
    const endpoint = options.endpoint ?? resolveEndpoint(this.tenant, config, options.env ?? process.env);
    const secrets = endpoint.secrets;
    // A custom send (tests) may never touch the network: no pool then.
    this.dispatcher = options.send === undefined ? createDispatcher(endpoint.tls, config.shards) : undefined;
    // Origin only: the path or query of some hosted endpoints carries a token,
    // and headers (Authorization, X-Scope-OrgID…) are never logged at all.
    this.log = options.logger.child({ tenant: this.tenant, endpoint: new URL(config.endpoint).origin });
    this.limiter = new LogLimiter(this.log, clock);
    this.catalog = newCatalog(config);
    const ttl = config.limits?.series_ttl ?? 15 * 60_000;
    this.sweepEveryMs = Math.min(Math.max(ttl / 4, 1_000), 60_000);
    this.dropOldest = config.backlog.policy === 'drop_oldest';
    this.maxBacklog = config.backlog.max_samples;
    this.settlement = new Settlement(this.log, () => this.updateBlocked());

    const rate = config.limits?.max_samples_per_second;
    this.delivery = new Delivery({
      tenant: this.tenant,
      events: this.events,
      settlement: this.settlement,
      limiter: this.limiter,
      log: this.log,
      clock,
      send: options.send ?? sendWriteRequest,
      random: options.random ?? Math.random,
      client: { endpoint: endpoint.endpoint, headers: endpoint.headers, timeout: config.timeout, dispatcher: this.dispatcher, clock },
      protocol: new ProtocolChoice(config.protocol ?? 'v1'),
      bucket: rate === undefined ? undefined : new TokenBucket(rate, Math.max(rate, config.batch.max_samples), () => clock.now()),
      retry: {
        initialMs: config.retry.initial_backoff,
        maxMs: config.retry.max_backoff,
        maxAttempts: config.retry.max_attempts === 0 ? Number.POSITIVE_INFINITY : config.retry.max_attempts,
      },
      batchCapacity: config.batch.max_samples,
      shutdown: this.shutdown.signal,
      scrub: (text) => (secrets.length === 0 ? text : scrubSecrets(text, secrets)),
    });
    this.batcher = new ShardBatcher({
      shards: config.shards,
      limits: { maxSamples: config.batch.max_samples, maxBytes: config.batch.max_bytes, maxDelayMs: config.batch.max_delay },
      clock,
      deliver: (batch) => this.delivery.deliver(batch),
      onDeliverError: (batch, error) => {
        // Only reachable through a bug (deliver handles its own failures).
        this.log.error({ err: error }, 'remote-write batch failed unexpectedly');
        this.delivery.failUnsettled(batch, 'internal');
      },
      urgent: (ticket) => this.closed || ticket.seq <= this.flushSeq,
    });
    this.intake = new Intake({
      tenant: this.tenant,
      catalog: this.catalog,
      batcher: this.batcher,
      events: this.events,
      limiter: this.limiter,
      maxActiveSeries: config.limits?.max_active_series,
      settleNow: (ticket, n, kind, reason) => this.settleNow(ticket, n, kind, reason),
    });
    this.wholeHistograms = keepsHistogramsWhole(config);
  }

  /** Samples written and not yet settled (queued or in flight). */
  get backlog(): number {
    return this.settlement.pending;
  }

  /** True while over the backlog bound under policy `block`: the runtime should pause this tenant's sources. */
  get isBlocked(): boolean {
    return this.blocked;
  }

  /** Active series (overflow series excluded). */
  get activeSeries(): number {
    return this.catalog.activeSeries;
  }

  /**
   * Queues samples. Never blocks and never throws: what cannot be sent is counted and settled as
   * failed or filtered. `onSettled` is called exactly once, when every sample of this call has
   * been settled (asynchronously, never from inside write()). The arrays are not kept: samples
   * are copied into the shard queues.
   */
  write(samples: readonly Sample[], onSettled?: SettleCallback): void {
    this.take(samples.length, onSettled, (ticket, now) => this.accept(samples, ticket, now));
  }

  /**
   * write() for metric points: each is flattened into its Prometheus samples on the way in
   * (SampleFlattener; a histogram kept whole when the tenant takes native histograms), and
   * `onSettled` counts those samples.
   */
  writePoints(points: readonly MetricPoint[], onSettled?: SettleCallback): void {
    const { flattener, plans, wholeHistograms } = this;
    // One plans array per sender, emptied on every way out (a throw while planning included), so
    // no write reads another's series. Writes never nest: settle callbacks run as microtasks.
    try {
      let count = 0;
      for (const point of points) {
        const whole = keepsWhole(point, wholeHistograms);
        const series = flattener.seriesOf(point, whole);
        plans.push(this.catalog.resolveAll(series));
        count += flattener.sampleCount(point, whole, series.length);
      }
      this.take(count, onSettled, (ticket, now) => this.acceptPoints(points, plans, ticket, now));
    } finally {
      plans.length = 0;
    }
  }

  /** The books and guards of a write of `count` samples around `accept`. */
  private take(count: number, onSettled: SettleCallback | undefined, accept: (ticket: Ticket, now: number) => void): void {
    const now = this.clock.now();
    const ticket = this.settlement.issue(count, now, onSettled);
    if (count === 0) return;
    this.events.received(this.tenant, count);
    if (this.closed) {
      this.settleNow(ticket, count, 'failed', 'closed');
      this.limiter.warn('closed', { samples: count }, 'samples written after close were dropped');
      return;
    }
    try {
      accept(ticket, now);
    } catch (error) {
      // Only a bug gets here; whatever was not queued must still settle.
      this.log.error({ err: error }, 'remote-write write failed');
      const rest = ticket.remaining - this.batcher.queuedFor(ticket);
      if (rest > 0) this.settleNow(ticket, rest, 'failed', 'internal');
    }
  }

  /** Resolves when every sample written before this call has been settled. */
  flush(): Promise<void> {
    const settled = this.settlement.whenSettled();
    this.expedite();
    return settled;
  }

  /** Sends every sample written so far without waiting for its batch to fill or age. */
  expedite(): void {
    this.flushSeq = this.settlement.lastSeq;
    this.batcher.kickAll();
  }

  /**
   * Stops accepting samples, sends what is queued (retries included), then releases the
   * connection pool. If `signal` fires first, requests in flight are aborted and everything
   * unsettled fails with reason `shutdown`.
   */
  async close(signal?: AbortSignal): Promise<void> {
    this.closed = true;
    const abort = (): void => this.shutdown.abort();
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await this.flush();
    } finally {
      signal?.removeEventListener('abort', abort);
      this.batcher.stop();
      await this.dispatcher?.close().catch(() => {});
    }
  }

  // ---- write path ---------------------------------------------------------

  private accept(samples: readonly Sample[], ticket: Ticket, now: number): void {
    const { catalog, intake } = this;
    const activeBefore = this.beginIntake(ticket, now);
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i]!;
      const histogram = isHistogramSample(sample) ? sample.histogram : undefined;
      intake.add(catalog.resolve(sample.labels), sample.value, sample.timestampMs, sample.startTimestampMs, sample.metric, histogram);
    }
    this.endIntake(activeBefore);
  }

  /** accept() for metric points: each point's series resolved once, its samples queued without a Sample object each. */
  private acceptPoints(points: readonly MetricPoint[], plans: readonly (readonly Resolution[])[], ticket: Ticket, now: number): void {
    const { flattener, intake, wholeHistograms } = this;
    const activeBefore = this.beginIntake(ticket, now);
    for (let p = 0; p < points.length; p++) {
      const point = points[p]!;
      intake.point(point, plans[p]!);
      flattener.valuesOf(point, keepsWhole(point, wholeHistograms), intake);
    }
    this.endIntake(activeBefore);
  }

  private beginIntake(ticket: Ticket, now: number): number {
    if (now >= this.nextSweepAt) this.sweep(now);
    this.intake.begin(ticket, now);
    return this.catalog.activeSeries;
  }

  private endIntake(activeBefore: number): void {
    this.intake.end();
    if (this.catalog.activeSeries !== activeBefore) this.events.activeSeries(this.tenant, this.catalog.activeSeries);
    if (this.dropOldest) this.enforceBacklog();
    this.updateBlocked();
    this.events.queued(this.tenant, this.settlement.pending);
    this.batcher.scheduleAll();
  }

  /** drop_oldest: drop queued (not in-flight) samples, oldest write first, until the backlog fits. */
  private enforceBacklog(): void {
    let dropped = 0;
    while (this.settlement.pending > this.maxBacklog) {
      const oldest = this.batcher.dropOldest();
      if (oldest === undefined) break; // only in-flight samples left
      dropped += oldest.weight;
      this.settlement.settle(oldest.ticket, oldest.weight, 'failed');
    }
    if (dropped > 0) {
      this.events.failed(this.tenant, dropped, 'backlog_full');
      this.limiter.warn('backlog_full', { samples: dropped, max_samples: this.maxBacklog }, 'backlog full: dropped the oldest samples (policy drop_oldest)');
    }
  }

  private updateBlocked(): void {
    if (this.dropOldest) return;
    const pending = this.settlement.pending;
    const blocked = pending >= this.maxBacklog;
    if (blocked === this.blocked) return;
    this.blocked = blocked;
    this.events.blocked(this.tenant, blocked);
    if (blocked) this.log.warn({ backlog: pending, max_samples: this.maxBacklog }, 'backlog full: tenant blocked (policy block)');
    else this.log.info({ backlog: pending }, 'backlog below its bound again: tenant unblocked');
    try {
      this.onBlockedChange?.(this.tenant, blocked);
    } catch (error) {
      this.log.error({ err: error }, 'onBlockedChange callback threw');
    }
  }

  private sweep(now: number): void {
    this.nextSweepAt = now + this.sweepEveryMs;
    if (this.catalog.expire(now) > 0) this.events.activeSeries(this.tenant, this.catalog.activeSeries);
  }

  /** Settles `n` samples of a ticket that never reached a queue, with one event. */
  private settleNow(ticket: Ticket, n: number, kind: Exclude<SettleKind, 'delivered'>, reason: string): void {
    if (kind === 'failed') this.events.failed(this.tenant, n, reason);
    else this.events.filtered(this.tenant, n, reason);
    this.settlement.settle(ticket, n, kind);
  }
}

/** Whether a tenant's histograms go as native histograms with custom buckets: asked for, on a protocol that carries them. */
export function keepsHistogramsWhole(config: Pick<TenantSenderConfig, 'histograms' | 'protocol'>): boolean {
  return config.histograms === 'native_custom_buckets' && (config.protocol ?? 'v1') !== 'v1';
}

function newCatalog(config: TenantSenderConfig): SeriesCatalog {
  const limits = config.limits;
  const extra: Label[] = Object.entries(config.extra_labels ?? {})
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return new SeriesCatalog({
    shards: config.shards,
    extraLabels: extra,
    allow: compileMetricPatterns(config.metrics?.allow ?? []),
    deny: compileMetricPatterns(config.metrics?.deny ?? []),
    maxActiveSeries: limits?.max_active_series,
    seriesTtlMs: limits?.series_ttl ?? 15 * 60_000,
    labelLimits:
      limits === undefined
        ? DEFAULT_LABEL_LIMITS
        : { maxNameBytes: limits.max_label_name_length, maxValueBytes: limits.max_label_value_length, maxLabels: limits.max_labels_per_series },
  });
}
