/**
 * One tenant's sending side: normalise and limit (series-catalog.ts), queue
 * per shard, batch, send with retries, bisect 400s, and settle every write.
 *
 * Shards: a series always maps to the same shard (hash of its labels), and a
 * shard has exactly one request in flight, because Prometheus rejects a
 * sample older than the newest one it has for that series: two concurrent
 * requests for one series could land out of order. Different series go out
 * in parallel over `shards` requests.
 *
 * Queues hold samples as struct-of-arrays rings (series ref, value,
 * timestamp, weight, write ticket), about 30 bytes per queued sample plus the
 * series' labels, which are shared: see test/bench/remote-write-bench.ts.
 *
 * Settlement: every write() gets a ticket counting its samples; each sample
 * is settled exactly once — delivered (2xx), failed (given up, with a
 * reason) or filtered (deliberately not sent) — and the ticket's onSettled
 * runs when the last one is. flush() waits for every ticket issued before it.
 *
 * Retries: 5xx, 429, timeouts and network errors are retried with jittered
 * exponential backoff (honouring Retry-After) until delivered, or until
 * retry.max_attempts if set. Only the shard's own queue waits meanwhile; the
 * tenant's backlog bound and policy cap what piles up behind it, and other
 * tenants are separate senders with their own connection pools.
 */
import type { Logger } from 'pino';
import { compressSync } from 'snappy';
import type { Dispatcher } from 'undici';
import { isStaleMarker } from '../../core/stale-marker.ts';
import type { Label, Sample } from '../../core/types.ts';
import { resolveEndpoint, scrubSecrets } from '../http/secrets.ts';
import type { Environment, ResolvedEndpoint } from '../http/secrets.ts';
import { backoffDelay } from '../../core/backoff.ts';
import { createDispatcher, sendWriteRequest } from './client.ts';
import type { ClientConfig, SendResult } from './client.ts';
import type { RemoteWriteConfig } from './config.ts';
import { completeEvents } from './events.ts';
import type { AllSenderEvents, SenderEvents } from './events.ts';
import { classifyRejection } from './rejection.ts';
import { compileMetricPatterns, SeriesCatalog, untrackedRef } from './series-catalog.ts';
import type { SeriesRef } from './series-catalog.ts';
import { DEFAULT_LABEL_LIMITS } from './series.ts';
import { TokenBucket } from './token-bucket.ts';
import { WriteRequestWriter } from './wire.ts';

export { noopSenderEvents, type SenderEvents } from './events.ts';

export type SendFunction = (config: ClientConfig, body: Uint8Array, signal: AbortSignal) => Promise<SendResult>;

/** How one write() ended, sample by sample. delivered + failed + filtered = samples written. */
export interface WriteOutcome {
  /** Acknowledged by a 2xx (folded overflow samples count once per input sample). */
  readonly delivered: number;
  /** Given up on, and counted with a reason. */
  readonly failed: number;
  /** Deliberately not sent: denied by the metric allow/deny lists, or a stale marker of a folded series. */
  readonly filtered: number;
}

export type SettleCallback = (outcome: WriteOutcome) => void;

/** A tenant's settings: the remote-write part plus, optionally, what the tenant registry adds. */
export type TenantSenderConfig = RemoteWriteConfig & {
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
  /** Called when the tenant enters or leaves the blocked state (policy `block`). */
  readonly onBlockedChange?: (tenant: string, blocked: boolean) => void;
}

interface Ticket {
  readonly seq: number;
  /** When it was written (ms): its samples' max_delay counts from here. */
  readonly at: number;
  remaining: number;
  delivered: number;
  failed: number;
  filtered: number;
  onSettled: SettleCallback | undefined;
}

/** A shard's queue (a ring of parallel arrays) and its one batch in flight. */
interface Shard {
  readonly index: number;
  refs: SeriesRef[];
  values: Float64Array;
  timestamps: Float64Array;
  weights: Uint32Array;
  tickets: Ticket[];
  head: number;
  size: number;
  /** Estimated request bytes of the queued samples. */
  bytes: number;
  // The batch in flight (reused arrays, `batchSize` entries).
  readonly batchRefs: SeriesRef[];
  readonly batchValues: Float64Array;
  readonly batchTimestamps: Float64Array;
  readonly batchWeights: Uint32Array;
  readonly batchTickets: Ticket[];
  batchSize: number;
  pumping: boolean;
  kickScheduled: boolean;
  timer: NodeJS.Timeout | undefined;
}

interface FlushWaiter {
  /** Resolve once every ticket with seq <= target has settled. */
  readonly target: number;
  readonly resolve: () => void;
}

const INITIAL_RING = 1024;
/** How often a rate-limited log line may repeat, per tenant and kind. */
const LOG_INTERVAL_MS = 10_000;

/** Module-wide marker for the encoder's grouping pass (refs carry the mark of the pass that saw them). */
let encodePass = 0;

export class TenantSender {
  readonly tenant: string;
  private readonly config: TenantSenderConfig;
  private readonly log: Logger;
  private readonly events: AllSenderEvents;
  private readonly send: SendFunction;
  private readonly random: () => number;
  private readonly onBlockedChange: ((tenant: string, blocked: boolean) => void) | undefined;
  private readonly client: ClientConfig;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly secrets: readonly string[];
  private readonly catalog: SeriesCatalog;
  private readonly bucket: TokenBucket | undefined;
  private readonly shards: Shard[];
  private readonly writer = new WriteRequestWriter();
  private readonly maxAttempts: number;
  private readonly dropOldest: boolean;
  private readonly maxBacklog: number;

  private seq = 0;
  private flushSeq = 0;
  /** Samples written and not settled. */
  private pending = 0;
  private blocked = false;
  private readonly open: Ticket[] = [];
  private openHead = 0;
  private readonly waiters: FlushWaiter[] = [];
  private nextSweepAt = 0;
  private closed = false;
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();
  /** Fires when close() is cut short: aborts the requests in flight and the backoff sleeps. */
  private readonly shutdown = new AbortController();
  // Grouping scratch for the encoder, sized to one batch.
  private readonly groupRefs: SeriesRef[] = [];
  private readonly groupCounts: Uint32Array;
  private readonly groupStarts: Uint32Array;
  private readonly order: Uint32Array;

  constructor(options: TenantSenderOptions) {
    this.tenant = options.tenant;
    const config = (this.config = options.config);
    this.events = completeEvents(options.events);
    this.send = options.send ?? sendWriteRequest;
    this.random = options.random ?? Math.random;
    this.onBlockedChange = options.onBlockedChange;
    const endpoint = options.endpoint ?? resolveEndpoint(this.tenant, config, options.env ?? process.env);
    this.secrets = endpoint.secrets;
    // A custom send (tests) may never touch the network: no pool then.
    this.dispatcher = options.send === undefined ? createDispatcher(endpoint.tls, config.shards) : undefined;
    this.client = { endpoint: endpoint.endpoint, headers: endpoint.headers, timeout: config.timeout, dispatcher: this.dispatcher };
    // Origin only: the path or query of some hosted endpoints carries a token,
    // and headers (Authorization, X-Scope-OrgID…) are never logged at all.
    this.log = options.logger.child({ tenant: this.tenant, endpoint: new URL(config.endpoint).origin });

    const limits = config.limits;
    const extra: Label[] = Object.entries(config.extra_labels ?? {})
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.catalog = new SeriesCatalog({
      shards: config.shards,
      extraLabels: extra,
      allow: compileMetricPatterns(config.metrics?.allow ?? []),
      deny: compileMetricPatterns(config.metrics?.deny ?? []),
      maxActiveSeries: limits?.max_active_series,
      seriesTtlMs: limits?.series_ttl ?? 15 * 60_000,
      labelLimits:
        limits === undefined
          ? DEFAULT_LABEL_LIMITS
          : {
              maxNameBytes: limits.max_label_name_length,
              maxValueBytes: limits.max_label_value_length,
              maxLabels: limits.max_labels_per_series,
            },
    });
    const rate = limits?.max_samples_per_second;
    this.bucket = rate === undefined ? undefined : new TokenBucket(rate, Math.max(rate, config.batch.max_samples));
    this.maxAttempts = config.retry.max_attempts === 0 ? Number.POSITIVE_INFINITY : config.retry.max_attempts;
    this.dropOldest = config.backlog.policy === 'drop_oldest';
    this.maxBacklog = config.backlog.max_samples;

    const batchMax = config.batch.max_samples;
    this.shards = Array.from({ length: config.shards }, (_, index) => newShard(index, batchMax));
    this.groupCounts = new Uint32Array(batchMax);
    this.groupStarts = new Uint32Array(batchMax);
    this.order = new Uint32Array(batchMax);
  }

  /** Samples written and not yet settled (queued or in flight). */
  get backlog(): number {
    return this.pending;
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
   * Queues samples. Never blocks and never throws: what cannot be sent is
   * counted and settled as failed or filtered. `onSettled` is called exactly
   * once, when every sample of this call has been settled (asynchronously,
   * never from inside write()). The arrays are not kept: samples are copied
   * into the shard queues.
   */
  write(samples: readonly Sample[], onSettled?: SettleCallback): void {
    const now = Date.now();
    const ticket: Ticket = {
      seq: ++this.seq,
      at: now,
      remaining: samples.length,
      delivered: 0,
      failed: 0,
      filtered: 0,
      onSettled,
    };
    this.pending += samples.length;
    this.open.push(ticket);
    if (samples.length === 0) {
      this.finish(ticket);
      return;
    }
    this.events.received(this.tenant, samples.length);
    if (this.closed) {
      this.settleNow(ticket, samples.length, 'failed', 'closed');
      this.warnLimited('closed', { samples: samples.length }, 'samples written after close were dropped');
      return;
    }
    try {
      this.accept(samples, ticket, now);
    } catch (error) {
      // Only a bug gets here; whatever was not queued must still settle.
      this.log.error({ err: error }, 'remote-write write failed');
      const queued = this.queuedFor(ticket);
      const rest = ticket.remaining - queued;
      if (rest > 0) this.settleNow(ticket, rest, 'failed', 'internal');
    }
  }

  /** Resolves when every sample written before this call has been settled. */
  flush(): Promise<void> {
    const target = this.seq;
    if (this.lowestOpenSeq() > target) return Promise.resolve();
    this.flushSeq = target;
    return new Promise((resolve) => {
      this.waiters.push({ target, resolve });
      for (const shard of this.shards) this.kick(shard);
    });
  }

  /**
   * Stops accepting samples, sends what is queued (retries included), then
   * releases the connection pool. If `signal` fires first, requests in flight
   * are aborted and everything unsettled fails with reason `shutdown`.
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
      for (const shard of this.shards) clearShardTimer(shard);
      await this.dispatcher?.close().catch(() => {});
    }
  }

  // ---- write path ---------------------------------------------------------

  private accept(samples: readonly Sample[], ticket: Ticket, now: number): void {
    if (now >= this.nextSweepAt) this.sweep(now);
    const catalog = this.catalog;
    let invalid = 0;
    let invalidReason = '';
    let filtered = 0;
    let staleOverflow = 0;
    let overflowed = 0;
    let folds: Map<SeriesRef, Map<number, { sum: number; weight: number }>> | undefined;
    const activeBefore = catalog.activeSeries;

    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i]!;
      const resolution = catalog.resolve(sample.labels);
      if (resolution.kind !== 'series') {
        if (resolution.kind === 'filtered') filtered++;
        else {
          invalid++;
          invalidReason = resolution.reason;
        }
        continue;
      }
      const ts = sample.timestampMs;
      // int64 on the wire: a fractional or unsafe number would be silently mangled.
      if (!Number.isSafeInteger(ts)) {
        invalid++;
        invalidReason = `timestamp ${ts} is not an integer number of milliseconds`;
        continue;
      }
      const value = sample.value;
      if (value !== value && isStaleMarker(value)) {
        // The series ended: send the marker with its labels, then forget it.
        const tracked = catalog.find(resolution);
        if (tracked !== undefined) {
          this.enqueue(tracked, value, ts, 1, ticket);
          catalog.forget(tracked);
        } else if (resolution.overflowTo?.active === true) {
          staleOverflow++; // the overflow series goes on; a NaN would poison its sum
        } else {
          this.enqueue(untrackedRef(resolution), value, ts, 1, ticket);
        }
        continue;
      }
      const series = catalog.admit(resolution, now);
      if (series !== undefined) {
        this.enqueue(series, value, ts, 1, ticket);
        continue;
      }
      const target = catalog.overflowFor(resolution, now);
      if ('kind' in target) {
        invalid++;
        invalidReason = target.reason;
        continue;
      }
      overflowed++;
      folds ??= new Map();
      let byTs = folds.get(target);
      if (byTs === undefined) folds.set(target, (byTs = new Map()));
      const acc = byTs.get(ts);
      if (acc === undefined) byTs.set(ts, { sum: value, weight: 1 });
      else {
        acc.sum += value;
        acc.weight++;
      }
    }
    if (folds !== undefined) {
      for (const [target, byTs] of folds) {
        for (const [ts, acc] of byTs) this.enqueue(target, acc.sum, ts, acc.weight, ticket);
      }
      this.events.overflowed(this.tenant, overflowed);
      this.warnLimited('overflow', { samples: overflowed, max_active_series: this.config.limits?.max_active_series }, 'series over max_active_series folded into the overflow series');
    }
    if (catalog.activeSeries !== activeBefore) this.events.activeSeries(this.tenant, catalog.activeSeries);
    if (invalid > 0) {
      this.settleNow(ticket, invalid, 'failed', 'invalid_sample');
      // One line per episode, not per sample: a bad producer would flood the log.
      this.warnLimited('invalid', { samples: invalid, reason: invalidReason }, 'remote-write dropped invalid samples');
    }
    if (filtered > 0) this.settleNow(ticket, filtered, 'filtered', 'metric_filtered');
    if (staleOverflow > 0) this.settleNow(ticket, staleOverflow, 'filtered', 'stale_overflow');

    if (this.dropOldest) this.enforceBacklog();
    this.updateBlocked();
    this.events.queued(this.tenant, this.pending);
    for (const shard of this.shards) if (shard.size > 0) this.schedule(shard);
  }

  private enqueue(ref: SeriesRef, value: number, ts: number, weight: number, ticket: Ticket): void {
    const shard = this.shards[ref.shard]!;
    if (shard.size === shard.refs.length) growShard(shard);
    const at = (shard.head + shard.size) % shard.refs.length;
    shard.refs[at] = ref;
    shard.values[at] = value;
    shard.timestamps[at] = ts;
    shard.weights[at] = weight;
    shard.tickets[at] = ticket;
    shard.size++;
    shard.bytes += ref.bytes;
  }

  /** drop_oldest: drop queued (not in-flight) samples, oldest write first, until the backlog fits. */
  private enforceBacklog(): void {
    let dropped = 0;
    while (this.pending > this.maxBacklog) {
      let oldest: Shard | undefined;
      for (const shard of this.shards) {
        if (shard.size > 0 && (oldest === undefined || shard.tickets[shard.head]!.seq < oldest.tickets[oldest.head]!.seq)) {
          oldest = shard;
        }
      }
      if (oldest === undefined) break; // only in-flight samples left
      const cap = oldest.refs.length;
      const i = oldest.head;
      const ticket = oldest.tickets[i]!;
      const weight = oldest.weights[i]!;
      oldest.bytes -= oldest.refs[i]!.bytes;
      oldest.refs[i] = undefined as unknown as SeriesRef; // let the series go if it was the last reference
      oldest.tickets[i] = undefined as unknown as Ticket;
      oldest.head = (i + 1) % cap;
      oldest.size--;
      dropped += weight;
      this.settleSample(ticket, weight, 'failed');
    }
    if (dropped > 0) {
      this.events.failed(this.tenant, dropped, 'backlog_full');
      this.warnLimited('backlog_full', { samples: dropped, max_samples: this.maxBacklog }, 'backlog full: dropped the oldest samples (policy drop_oldest)');
    }
  }

  private updateBlocked(): void {
    if (this.dropOldest) return;
    const blocked = this.pending >= this.maxBacklog;
    if (blocked === this.blocked) return;
    this.blocked = blocked;
    this.events.blocked(this.tenant, blocked);
    if (blocked) this.log.warn({ backlog: this.pending, max_samples: this.maxBacklog }, 'backlog full: tenant blocked (policy block)');
    else this.log.info({ backlog: this.pending }, 'backlog below its bound again: tenant unblocked');
    try {
      this.onBlockedChange?.(this.tenant, blocked);
    } catch (error) {
      this.log.error({ err: error }, 'onBlockedChange callback threw');
    }
  }

  private sweep(now: number): void {
    const ttl = this.config.limits?.series_ttl ?? 15 * 60_000;
    this.nextSweepAt = now + Math.min(Math.max(ttl / 4, 1_000), 60_000);
    if (this.catalog.expire(now) > 0) this.events.activeSeries(this.tenant, this.catalog.activeSeries);
  }

  // ---- settlement ---------------------------------------------------------

  /** Settles `n` samples of a ticket that never reached a queue, with one event. */
  private settleNow(ticket: Ticket, n: number, kind: 'failed' | 'filtered', reason: string): void {
    if (kind === 'failed') this.events.failed(this.tenant, n, reason);
    else this.events.filtered(this.tenant, n, reason);
    this.settleSample(ticket, n, kind);
  }

  /** Settles `weight` samples of `ticket` (events are the caller's). */
  private settleSample(ticket: Ticket, weight: number, kind: 'delivered' | 'failed' | 'filtered'): void {
    ticket[kind] += weight;
    ticket.remaining -= weight;
    this.pending -= weight;
    if (ticket.remaining === 0) this.finish(ticket);
  }

  private finish(ticket: Ticket): void {
    const callback = ticket.onSettled;
    if (callback !== undefined) {
      ticket.onSettled = undefined;
      const outcome: WriteOutcome = { delivered: ticket.delivered, failed: ticket.failed, filtered: ticket.filtered };
      // Never call back from inside write() or a settle loop: the caller may re-enter.
      queueMicrotask(() => {
        try {
          callback(outcome);
        } catch (error) {
          this.log.error({ err: error }, 'onSettled callback threw');
        }
      });
    }
    // Advance past settled tickets; compact now and then.
    while (this.openHead < this.open.length && this.open[this.openHead]!.remaining === 0) this.openHead++;
    if (this.openHead === this.open.length) {
      this.open.length = 0;
      this.openHead = 0;
    } else if (this.openHead >= 1024 && this.openHead * 2 >= this.open.length) {
      this.open.splice(0, this.openHead);
      this.openHead = 0;
    }
    if (this.waiters.length > 0) {
      const lowest = this.lowestOpenSeq();
      let released = 0;
      while (released < this.waiters.length && this.waiters[released]!.target < lowest) {
        this.waiters[released]!.resolve();
        released++;
      }
      if (released > 0) this.waiters.splice(0, released);
    }
    this.updateBlocked();
  }

  private lowestOpenSeq(): number {
    return this.open[this.openHead]?.seq ?? Number.POSITIVE_INFINITY;
  }

  /** Samples of `ticket` sitting in queues (only used on the error path). */
  private queuedFor(ticket: Ticket): number {
    let n = 0;
    for (const shard of this.shards) {
      for (let k = 0; k < shard.size; k++) {
        const i = (shard.head + k) % shard.refs.length;
        if (shard.tickets[i] === ticket) n += shard.weights[i]!;
      }
    }
    return n;
  }

  // ---- shard pumps --------------------------------------------------------

  /** Runs the shard's pump now if a batch is due, otherwise makes sure a timer will. */
  private schedule(shard: Shard): void {
    if (shard.pumping) return; // the running pump re-checks after its request
    if (this.batchDue(shard, Date.now())) this.kick(shard);
    else if (shard.timer === undefined) this.armTimer(shard);
  }

  /**
   * Starts the pump on a microtask, so a burst of write() calls in one tick
   * coalesces into one batch and write() never encodes on the caller's stack.
   */
  private kick(shard: Shard): void {
    if (shard.pumping || shard.kickScheduled || shard.size === 0) return;
    shard.kickScheduled = true;
    queueMicrotask(() => {
      shard.kickScheduled = false;
      void this.pump(shard);
    });
  }

  private async pump(shard: Shard): Promise<void> {
    if (shard.pumping) return;
    shard.pumping = true;
    clearShardTimer(shard);
    try {
      while (shard.size > 0) {
        if (!this.batchDue(shard, Date.now())) {
          this.armTimer(shard);
          break;
        }
        this.cut(shard);
        try {
          await this.deliver(shard);
        } catch (error) {
          // Only reachable through a bug (deliver handles its own failures).
          this.log.error({ err: error }, 'remote-write batch failed unexpectedly');
          this.settleBatch(shard, 0, shard.batchSize, 'failed', 'internal');
        }
        shard.batchSize = 0;
      }
    } finally {
      shard.pumping = false;
    }
  }

  private batchDue(shard: Shard, now: number): boolean {
    if (shard.size === 0) return false;
    const { max_samples: maxSamples, max_bytes: maxBytes, max_delay: maxDelay } = this.config.batch;
    if (shard.size >= maxSamples || shard.bytes >= maxBytes) return true;
    const oldest = shard.tickets[shard.head]!;
    if (this.closed || oldest.seq <= this.flushSeq) return true;
    return now - oldest.at >= maxDelay;
  }

  private armTimer(shard: Shard): void {
    if (shard.size === 0 || shard.timer !== undefined) return;
    const wait = Math.max(0, shard.tickets[shard.head]!.at + this.config.batch.max_delay - Date.now());
    shard.timer = setTimeout(() => {
      shard.timer = undefined;
      this.kick(shard);
    }, wait);
  }

  /** Moves the oldest samples (up to max_samples / max_bytes) into the shard's batch arrays. */
  private cut(shard: Shard): void {
    const { max_samples: maxSamples, max_bytes: maxBytes } = this.config.batch;
    const cap = shard.refs.length;
    let n = 0;
    let bytes = 0;
    while (shard.size > 0 && n < maxSamples) {
      const i = shard.head;
      const ref = shard.refs[i]!;
      if (n > 0 && bytes + ref.bytes > maxBytes) break;
      bytes += ref.bytes;
      shard.batchRefs[n] = ref;
      shard.batchValues[n] = shard.values[i]!;
      shard.batchTimestamps[n] = shard.timestamps[i]!;
      shard.batchWeights[n] = shard.weights[i]!;
      shard.batchTickets[n] = shard.tickets[i]!;
      shard.refs[i] = undefined as unknown as SeriesRef;
      shard.tickets[i] = undefined as unknown as Ticket;
      shard.head = (i + 1) % cap;
      shard.size--;
      n++;
    }
    shard.bytes -= bytes;
    shard.batchSize = n;
  }

  // ---- delivery -----------------------------------------------------------

  /** Sends the shard's batch, bisecting on 400. Settles every sample; never throws on delivery problems. */
  private async deliver(shard: Shard): Promise<void> {
    const n = shard.batchSize;
    if (this.shutdown.signal.aborted) {
      this.settleBatch(shard, 0, n, 'failed', 'shutdown');
      return;
    }
    // Bisecting one bad sample out of n takes about 2·log2(n) requests; a
    // batch where everything is bad (a replay of old samples) stops at the
    // budget and fails the rest with the classified reason.
    const budget = { requests: 4 * Math.ceil(Math.log2(Math.max(n, 2))) + 4 };
    await this.sendRange(shard, 0, n, budget);
  }

  private async sendRange(
    shard: Shard,
    lo: number,
    hi: number,
    budget: { requests: number },
    rejectedAs?: string,
  ): Promise<void> {
    if (rejectedAs !== undefined && budget.requests <= 0) {
      // Part of a rejected batch, and out of bisecting budget: fail it with the parent's reason.
      this.settleBatch(shard, lo, hi, 'failed', rejectedAs);
      return;
    }
    budget.requests--;
    const body = compressSync(this.encode(shard, lo, hi));
    const shutdown = this.shutdown.signal;
    const count = hi - lo;
    let result: SendResult;
    let attempt = 0;
    for (;;) {
      attempt++;
      await this.rateLimit(count, shutdown);
      if (shutdown.aborted) {
        this.settleBatch(shard, lo, hi, 'failed', 'shutdown');
        return;
      }
      const started = performance.now();
      result = await this.send(this.client, body, shutdown);
      this.events.request(this.tenant, (performance.now() - started) / 1000, result.kind, body.length);
      if (result.kind === 'success') {
        this.settleBatch(shard, lo, hi, 'delivered', '');
        return;
      }
      if (result.kind === 'permanent' || attempt >= this.maxAttempts || shutdown.aborted) break;
      const { initial_backoff: initialMs, max_backoff: maxMs } = this.config.retry;
      const delayMs = backoffDelay({ initialMs, maxMs }, attempt, result.retryAfterMs, this.random);
      this.events.retried(this.tenant, this.weightOf(shard, lo, hi));
      this.log.debug(
        { status: result.status, reason: result.reason, error: this.scrub(result.error), attempt, delayMs },
        'remote-write request failed, retrying',
      );
      if (attempt === 1 || attempt % 10 === 0) {
        this.warnLimited(
          `retry:${result.reason}`,
          { status: result.status, reason: result.reason, error: this.scrub(result.error), attempt, delayMs },
          'remote-write request failed; retrying',
        );
      }
      await sleep(delayMs, shutdown);
    }
    // A request cut by close()'s signal reports 'aborted'; the cause is the shutdown.
    if (shutdown.aborted) {
      this.settleBatch(shard, lo, hi, 'failed', 'shutdown');
      return;
    }
    if (result.kind === 'permanent' && result.status === 400) {
      const reason = classifyRejection(result.error);
      if (count > 1 && reason !== 'malformed' && budget.requests > 0) {
        const mid = lo + Math.floor(count / 2);
        await this.sendRange(shard, lo, mid, budget, reason);
        await this.sendRange(shard, mid, hi, budget, reason);
        return;
      }
      // Name the first rejected sample's metric and time (never label values: they are data).
      const first = { metric: shard.batchRefs[lo]?.labels.find((l) => l.name === '__name__')?.value, timestampMs: shard.batchTimestamps[lo] };
      this.settleBatch(shard, lo, hi, 'failed', reason);
      this.warnLimited(
        `rejected:${reason}`,
        { status: 400, reason, error: this.scrub(result.error), samples: count, first },
        'remote-write receiver rejected samples',
      );
      return;
    }
    this.settleBatch(shard, lo, hi, 'failed', result.reason);
    this.warnLimited(
      `gaveup:${result.reason}`,
      { status: result.status, reason: result.reason, error: this.scrub(result.error), attempts: attempt, samples: count },
      result.kind === 'permanent' ? 'remote-write rejected the batch' : 'remote-write gave up on the batch after retries',
      'error',
    );
  }

  private async rateLimit(count: number, signal: AbortSignal): Promise<void> {
    const bucket = this.bucket;
    if (bucket === undefined) return;
    for (let wait = bucket.take(count); wait > 0 && !signal.aborted; wait = bucket.take(count)) {
      await sleep(wait, signal);
    }
  }

  /**
   * Encodes batch entries [lo, hi) as one WriteRequest: samples grouped by
   * series (first-seen order) and ordered by timestamp within a series.
   * Grouping is a counting sort over marks left on the series refs, so it
   * allocates nothing per sample.
   */
  private encode(shard: Shard, lo: number, hi: number): Buffer {
    const pass = ++encodePass;
    const refs = shard.batchRefs;
    const counts = this.groupCounts;
    const starts = this.groupStarts;
    const order = this.order;
    const groups = this.groupRefs;
    let groupCount = 0;
    for (let i = lo; i < hi; i++) {
      const ref = refs[i]!;
      if (ref.batchMark !== pass) {
        ref.batchMark = pass;
        ref.batchGroup = groupCount;
        groups[groupCount] = ref;
        counts[groupCount] = 0;
        groupCount++;
      }
      counts[ref.batchGroup]!++;
    }
    let offset = 0;
    for (let g = 0; g < groupCount; g++) {
      starts[g] = offset;
      offset += counts[g]!;
      counts[g] = 0;
    }
    for (let i = lo; i < hi; i++) {
      const g = refs[i]!.batchGroup;
      order[starts[g]! + counts[g]!] = i;
      counts[g]!++;
    }
    const writer = this.writer;
    const timestamps = shard.batchTimestamps;
    writer.reset();
    for (let g = 0; g < groupCount; g++) {
      const start = starts[g]!;
      const count = counts[g]!;
      const slice = order.subarray(start, start + count);
      if (!ascending(slice, timestamps)) sortByTimestamp(slice, timestamps);
      writer.addSeries(groups[g]!.labels, shard.batchValues, timestamps, slice, count);
      groups[g] = undefined as unknown as SeriesRef;
    }
    return writer.finish();
  }

  private weightOf(shard: Shard, lo: number, hi: number): number {
    let w = 0;
    for (let i = lo; i < hi; i++) w += shard.batchWeights[i]!;
    return w;
  }

  /** Settles batch entries [lo, hi) with one event. */
  private settleBatch(shard: Shard, lo: number, hi: number, kind: 'delivered' | 'failed', reason: string): void {
    let total = 0;
    let newest = Number.NEGATIVE_INFINITY;
    for (let i = lo; i < hi; i++) {
      const weight = shard.batchWeights[i]!;
      total += weight;
      if (shard.batchTimestamps[i]! > newest) newest = shard.batchTimestamps[i]!;
      const ticket = shard.batchTickets[i]!;
      shard.batchTickets[i] = undefined as unknown as Ticket;
      shard.batchRefs[i] = undefined as unknown as SeriesRef;
      this.settleSample(ticket, weight, kind);
    }
    if (kind === 'delivered') {
      this.events.sent(this.tenant, total);
      this.events.highestSentTimestamp(this.tenant, newest);
    } else {
      this.events.failed(this.tenant, total, reason);
    }
    this.events.queued(this.tenant, this.pending);
  }

  // ---- logging ------------------------------------------------------------

  private scrub(text: string): string {
    return this.secrets.length === 0 ? text : scrubSecrets(text, this.secrets);
  }

  /** At most one line per kind every LOG_INTERVAL_MS, with the count of lines suppressed since. */
  private warnLimited(kind: string, fields: Record<string, unknown>, message: string, level: 'warn' | 'error' = 'warn'): void {
    const now = Date.now();
    const last = this.lastLogged.get(kind);
    if (last !== undefined && now - last.at < LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.lastLogged.set(kind, { at: now, suppressed: 0 });
    this.log[level](suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}

function newShard(index: number, batchMax: number): Shard {
  return {
    index,
    refs: new Array<SeriesRef>(INITIAL_RING),
    values: new Float64Array(INITIAL_RING),
    timestamps: new Float64Array(INITIAL_RING),
    weights: new Uint32Array(INITIAL_RING),
    tickets: new Array<Ticket>(INITIAL_RING),
    head: 0,
    size: 0,
    bytes: 0,
    batchRefs: new Array<SeriesRef>(batchMax),
    batchValues: new Float64Array(batchMax),
    batchTimestamps: new Float64Array(batchMax),
    batchWeights: new Uint32Array(batchMax),
    batchTickets: new Array<Ticket>(batchMax),
    batchSize: 0,
    pumping: false,
    kickScheduled: false,
    timer: undefined,
  };
}

/** Doubles a full ring, unrolling it so the oldest entry is at 0. */
function growShard(shard: Shard): void {
  const cap = shard.refs.length;
  const next = cap * 2;
  const refs = new Array<SeriesRef>(next);
  const values = new Float64Array(next);
  const timestamps = new Float64Array(next);
  const weights = new Uint32Array(next);
  const tickets = new Array<Ticket>(next);
  for (let k = 0; k < shard.size; k++) {
    const i = (shard.head + k) % cap;
    refs[k] = shard.refs[i]!;
    values[k] = shard.values[i]!;
    timestamps[k] = shard.timestamps[i]!;
    weights[k] = shard.weights[i]!;
    tickets[k] = shard.tickets[i]!;
  }
  shard.refs = refs;
  shard.values = values;
  shard.timestamps = timestamps;
  shard.weights = weights;
  shard.tickets = tickets;
  shard.head = 0;
}

function clearShardTimer(shard: Shard): void {
  if (shard.timer !== undefined) clearTimeout(shard.timer);
  shard.timer = undefined;
}

function ascending(indices: Uint32Array, timestamps: Float64Array): boolean {
  for (let k = 1; k < indices.length; k++) {
    if (timestamps[indices[k]!]! < timestamps[indices[k - 1]!]!) return false;
  }
  return true;
}

/** Stable: equal timestamps keep their arrival order (the receiver decides about duplicates). */
function sortByTimestamp(indices: Uint32Array, timestamps: Float64Array): void {
  const sorted = Array.from(indices).sort((a, b) => timestamps[a]! - timestamps[b]! || a - b);
  indices.set(sorted);
}

/** setTimeout as a promise that resolves early (never rejects) when `signal` fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
