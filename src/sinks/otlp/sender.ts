/**
 * One tenant's OTLP export pipeline: filter → queue → batch → encode → send with retries →
 * settle. One request in flight per tenant, so a tenant's points arrive in the order written;
 * each tenant has its own sender and connection pool, so a slow receiver delays only its tenant.
 *
 * Settlement is exactly once per write (the outbox's checkpoint relies on it): when every point
 * of the write was sent, filtered or given up on (a permanent error, retries exhausted, the
 * backlog bound, shutdown, or rejected in a partial_success).
 */
import type { Logger } from 'pino';
import { backoffDelay, sleepUnlessAborted } from '../../core/backoff.ts';
import type { MetricPoint } from '../../core/metric-model.ts';
import type { TenantFieldsConfig } from '../../tenancy/config.ts';
import { compileMetricFilter } from '../../tenancy/metric-filter.ts';
import { scrubSecrets, type ResolvedEndpoint } from '../http/secrets.ts';
import { createDispatcher } from '../remote-write/client.ts';
import { protocolHeaders, requestBody, sendExport, type ExportResult, type ExportTarget } from './client.ts';
import { metricsUrl, type OtlpSinkConfig } from './config.ts';
import { invalidPoint, OtlpRequestEncoder } from './encode.ts';
import { type OtlpSinkEvents, type PointOutcome } from './metrics.ts';

/** How a write ended, per point. */
export interface OtlpWriteOutcome {
  readonly sent: number;
  readonly failed: number;
  readonly filtered: number;
}

export type SendExport = (target: ExportTarget, body: Uint8Array, signal: AbortSignal | undefined) => Promise<ExportResult>;

export interface OtlpSenderOptions {
  readonly tenant: string;
  readonly sink: OtlpSinkConfig;
  readonly owned: TenantFieldsConfig;
  readonly endpoint: ResolvedEndpoint;
  readonly logger: Logger;
  readonly events: OtlpSinkEvents;
  /** Replaces the HTTP call; for tests. */
  readonly send?: SendExport;
  /** Jitter source in [0, 1); for tests. */
  readonly random?: () => number;
}

class PendingWrite {
  remaining = 0;
  sent = 0;
  failed = 0;
  filtered = 0;
  onFlushed: (() => void) | undefined;
  flushed: Promise<void> | undefined;
  constructor(readonly onSettled: ((outcome: OtlpWriteOutcome) => void) | undefined) {}
}

interface QueuedPoint {
  readonly point: MetricPoint;
  readonly write: PendingWrite;
}

export class OtlpTenantSender {
  private readonly queue: QueuedPoint[] = [];
  private readonly unsettled = new Set<PendingWrite>();
  private inFlight = 0;
  private sending = false;
  /** Points at the head of the queue that expedite() asked to send without waiting for max_delay. */
  private expedited = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly stop = new AbortController();
  private readonly encoder: OtlpRequestEncoder;
  private readonly wanted: (name: string) => boolean;
  private readonly target: ExportTarget;
  private readonly send: SendExport;

  constructor(private readonly options: OtlpSenderOptions) {
    const { sink, owned, endpoint } = options;
    this.encoder = new OtlpRequestEncoder(sink.resource_attributes, owned.extra_labels);
    this.wanted = compileMetricFilter(owned.metrics);
    const json = sink.encoding === 'json';
    const gzip = sink.compression === 'gzip';
    const headers: Record<string, string> = {};
    const own = protocolHeaders(json, gzip);
    for (const [name, value] of Object.entries(endpoint.headers)) if (!(name.toLowerCase() in own)) headers[name] = value;
    this.target = {
      url: metricsUrl(sink),
      headers: { ...headers, ...own },
      json,
      gzip,
      timeoutMs: sink.timeout,
      // Its own pool: one tenant's hung connections never hold another's sockets.
      dispatcher: options.send === undefined ? createDispatcher(endpoint.tls, 1) : undefined,
    };
    this.send = options.send ?? sendExport;
  }

  /** Points written and not yet settled. */
  get backlog(): number {
    return this.queue.length + this.inFlight;
  }

  write(points: readonly MetricPoint[], onSettled?: (outcome: OtlpWriteOutcome) => void): void {
    const write = new PendingWrite(onSettled);
    if (this.stop.signal.aborted) {
      write.failed = points.length;
      this.options.events.points(this.options.tenant, 'failed', 'shutdown', points.length);
      queueMicrotask(() => this.finish(write));
      return;
    }
    for (const point of points) {
      if (!this.wanted(point.metric.name)) {
        write.filtered++;
        continue;
      }
      const invalid = invalidPoint(point);
      if (invalid !== undefined) {
        write.failed++;
        this.options.events.points(this.options.tenant, 'failed', 'invalid', 1);
        this.options.logger.warn({ tenant: this.options.tenant, metric: point.metric.name, problem: invalid }, 'OTLP sink dropped an invalid point');
        continue;
      }
      this.queue.push({ point, write });
      write.remaining++;
    }
    if (write.filtered > 0) this.options.events.points(this.options.tenant, 'filtered', '', write.filtered);
    if (write.remaining === 0) {
      queueMicrotask(() => this.finish(write));
      return;
    }
    this.unsettled.add(write);
    this.enforceBacklog();
    this.schedule(false);
  }

  /** Resolves when every write made before the call is settled; sends what is queued now. */
  async flush(): Promise<void> {
    const waiting = Array.from(this.unsettled, (write) => (write.flushed ??= new Promise<void>((resolve) => (write.onFlushed = resolve))));
    this.schedule(true);
    await Promise.all(waiting);
  }

  /** Sends what is queued now instead of after `max_delay`. */
  expedite(): void {
    this.expedited = this.queue.length;
    this.schedule(true);
  }

  /** Flushes; when `deadline` fires first, the request in flight is aborted and the rest fails with reason `shutdown`. */
  async close(deadline: AbortSignal): Promise<void> {
    const onDeadline = (): void => {
      this.stop.abort();
      this.failQueued(this.queue.length, 'shutdown');
    };
    if (deadline.aborted) onDeadline();
    else deadline.addEventListener('abort', onDeadline, { once: true });
    try {
      await this.flush();
    } finally {
      deadline.removeEventListener('abort', onDeadline);
      this.stop.abort();
      clearTimeout(this.timer);
      await (this.target.dispatcher as { close?: () => Promise<void> } | undefined)?.close?.();
    }
  }

  private schedule(now: boolean): void {
    if (this.sending || this.queue.length === 0 || this.stop.signal.aborted) return;
    if (now || this.queue.length >= this.options.sink.batch.max_points) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.pump();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.schedule(true);
      }, this.options.sink.batch.max_delay);
    }
  }

  private async pump(): Promise<void> {
    this.sending = true;
    const batch = this.queue.splice(0, this.options.sink.batch.max_points);
    this.expedited = Math.max(0, this.expedited - batch.length);
    this.inFlight = batch.length;
    try {
      await this.export(batch);
    } catch (error) {
      // Points are checked before they are queued, so this is a bug; still settle, never hang the outbox.
      this.logProblem('OTLP export failed unexpectedly', 'internal', error instanceof Error ? error.message : String(error), batch.length);
      this.settle(batch, 'failed', 'internal');
    } finally {
      this.inFlight = 0;
      this.sending = false;
    }
    // Whatever was queued meanwhile: a full batch goes now; a flush waiting on it sends it too.
    this.schedule(this.expedited > 0 || this.anyoneFlushing());
  }

  private async export(batch: readonly QueuedPoint[]): Promise<void> {
    const { tenant, sink, events } = this.options;
    const points = batch.map((entry) => entry.point);
    const body = requestBody(this.target, this.target.json ? this.encoder.encodeJson(points) : this.encoder.encodeProto(points));
    for (let attempt = 1; ; attempt++) {
      const result = await this.send(this.target, body, this.stop.signal);
      if (result.kind === 'success') {
        events.sentBytes(tenant, body.byteLength);
        const rejected = Math.min(result.partial?.rejectedDataPoints ?? 0, batch.length);
        if (result.partial !== undefined) this.logProblem('OTLP receiver rejected part of a request', 'partial_success', result.partial.errorMessage, rejected);
        this.settle(batch.slice(0, batch.length - rejected), 'sent', '');
        this.settle(batch.slice(batch.length - rejected), 'failed', 'partial_success');
        return;
      }
      const giveUp = result.kind === 'permanent' || this.stop.signal.aborted || (sink.retry.max_attempts > 0 && attempt >= sink.retry.max_attempts);
      if (giveUp) {
        const reason = this.stop.signal.aborted ? 'shutdown' : result.reason;
        this.logProblem('OTLP export given up', reason, result.error, batch.length);
        this.settle(batch, 'failed', reason);
        return;
      }
      events.retried(tenant, result.reason);
      if (attempt === 1) this.logProblem('OTLP export failed; retrying', result.reason, result.error, batch.length);
      const policy = { initialMs: sink.retry.initial_backoff, maxMs: sink.retry.max_backoff };
      await sleepUnlessAborted(backoffDelay(policy, attempt, result.retryAfterMs, this.options.random ?? Math.random), this.stop.signal);
    }
  }

  /** Over the backlog bound, the oldest queued points are given up on (never the request in flight). */
  private enforceBacklog(): void {
    const excess = this.backlog - this.options.sink.backlog.max_points;
    if (excess > 0) this.failQueued(excess, 'backlog_full');
  }

  private failQueued(count: number, reason: string): void {
    if (count <= 0 || this.queue.length === 0) return;
    this.settle(this.queue.splice(0, count), 'failed', reason);
  }

  private settle(entries: readonly QueuedPoint[], outcome: Exclude<PointOutcome, 'filtered'>, reason: string): void {
    if (entries.length === 0) return;
    this.options.events.points(this.options.tenant, outcome, reason, entries.length);
    for (const { write } of entries) {
      if (outcome === 'sent') write.sent++;
      else write.failed++;
      if (--write.remaining === 0) {
        this.unsettled.delete(write);
        this.finish(write);
      }
    }
  }

  private finish(write: PendingWrite): void {
    write.onFlushed?.();
    try {
      write.onSettled?.({ sent: write.sent, failed: write.failed, filtered: write.filtered });
    } catch (error) {
      // A caller's callback must not break settlement of the other writes in the batch (each settles once).
      this.options.logger.error({ tenant: this.options.tenant, err: error }, 'OTLP write callback threw');
    }
  }

  private anyoneFlushing(): boolean {
    for (const write of this.unsettled) if (write.flushed !== undefined) return true;
    return false;
  }

  private logProblem(message: string, reason: string, detail: string, points: number): void {
    // A receiver may echo request headers back: scrub the tenant's secrets from what it says.
    const error = scrubSecrets(detail, this.options.endpoint.secrets);
    this.options.logger.warn({ tenant: this.options.tenant, reason, points, error }, message);
  }
}
