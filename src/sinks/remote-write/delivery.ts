/**
 * Sends one shard's batch and settles every entry of it: encode with the tenant's current
 * protocol, compress, send, and act on retry-policy.ts's decision (retry after a backoff,
 * bisect a 400, fall back from 2.0 to 1.0, give up). Never throws on delivery problems.
 * One per tenant, shared by its shards: encoding and compressing are synchronous, so the
 * encoders' scratch buffers are never used by two requests at once.
 */
import type { Logger } from 'pino';
import { compressSync } from 'snappy';
import type { ClientConfig, SendResult } from './client.ts';
import type { Batch } from './batch.ts';
import { sleepOn } from './clock.ts';
import type { Clock } from './clock.ts';
import type { AllSenderEvents } from './events.ts';
import type { LogLimiter } from './log-limiter.ts';
import type { ProtocolChoice } from './protocol-choice.ts';
import { createEncoder } from './request-encoder.ts';
import type { Protocol, RequestEncoder } from './request-encoder.ts';
import { SeriesOrder } from './series-order.ts';
import { bisectBudget, checkWritten, decide } from './retry-policy.ts';
import type { Settlement } from './settlement.ts';
import type { TokenBucket } from './token-bucket.ts';

export type SendFunction = (config: ClientConfig, body: Uint8Array, signal: AbortSignal) => Promise<SendResult>;

export interface DeliveryOptions {
  readonly tenant: string;
  readonly events: AllSenderEvents;
  readonly settlement: Settlement;
  readonly limiter: LogLimiter;
  readonly log: Logger;
  readonly clock: Clock;
  readonly send: SendFunction;
  readonly random: () => number;
  /** The request settings, without the protocol (added per request). */
  readonly client: ClientConfig;
  readonly protocol: ProtocolChoice;
  readonly bucket: TokenBucket | undefined;
  readonly retry: { readonly initialMs: number; readonly maxMs: number; readonly maxAttempts: number };
  readonly batchCapacity: number;
  /** Fires when close() is cut short: aborts requests in flight and backoff sleeps. */
  readonly shutdown: AbortSignal;
  /** Removes the tenant's secrets from text that is about to be logged. */
  readonly scrub: (text: string) => string;
}

/**
 * A rejected batch with at most this many distinct timestamps is sent one timestamp at a time,
 * oldest first: its oldest timestamp's samples (bisected within the budget if refused), then the
 * rest in one request (and again oldest first if refused). That is the shape of a stage-2 replay
 * after a restore: windows the previous owner had delivered (Prometheus refuses them as out of
 * order, all of them) followed by new windows in the same batch. Bisecting by position spent the
 * whole budget inside the replayed windows and then failed the new ones with them (a lost window
 * of every per-window series); this way the new windows cost one request, and every series is
 * still sent in time order (an older sample after a newer one would be out of order itself).
 */
const REPLAY_LAYERS = 16;

/**
 * A rejected batch (or timestamp layer of one) holding at most this many writes is sent write by
 * write, in order, before anything is bisected. After a restore, one window end holds the samples
 * of several stage-2 partitions that stood at different points of delivery when the previous
 * owner died: one partition's re-sent window was delivered and followed by its next one (all of
 * that write is refused as out of order), another's was never delivered (all of it is new). A
 * write is refused or taken as a whole in that case (a shard delivers in write order), so one
 * request per write separates them; bisecting the layer by position spent the budget inside the
 * refused write and failed the new one with it. A refused write is then bisected as before.
 */
const REPLAY_WRITES = 16;

interface Budget {
  requests: number;
}

export class Delivery {
  private readonly encoders = new Map<Protocol, RequestEncoder>();
  private readonly clients = new Map<Protocol, ClientConfig>();
  /** The tenant's series ranked once for all its requests, whichever protocol encodes them. */
  private readonly order = new SeriesOrder();

  constructor(private readonly o: DeliveryOptions) {}

  /** Sends `batch` (bisecting on 400) and settles all of its entries. */
  async deliver(batch: Batch): Promise<void> {
    const n = batch.size;
    if (this.o.shutdown.aborted) {
      this.settleRange(batch, 0, n, 'failed', 'shutdown');
      return;
    }
    await this.sendRange(batch, 0, n, { requests: bisectBudget(n) });
  }

  /** Settles entries [lo, hi) with one event. */
  settleRange(batch: Batch, lo: number, hi: number, kind: 'delivered' | 'failed', reason: string): void {
    const { events, tenant, settlement } = this.o;
    let total = 0;
    let newest = Number.NEGATIVE_INFINITY;
    for (let i = lo; i < hi; i++) {
      const weight = batch.weights[i]!;
      total += weight;
      if (batch.timestamps[i]! > newest) newest = batch.timestamps[i]!;
      settlement.settle(batch.tickets[i]!, weight, kind);
    }
    batch.release(lo, hi);
    if (kind === 'delivered') {
      events.sent(tenant, total);
      events.highestSentTimestamp(tenant, newest);
    } else {
      events.failed(tenant, total, reason);
    }
    events.queued(tenant, settlement.pending);
  }

  /** Fails the entries of `batch` not settled yet (after a bug cut a delivery short). */
  failUnsettled(batch: Batch, reason: string): void {
    for (let i = 0; i < batch.size; i++) {
      if (batch.tickets[i] !== undefined) this.settleRange(batch, i, i + 1, 'failed', reason);
    }
  }

  private async sendRange(batch: Batch, lo: number, hi: number, budget: Budget, rejectedAs?: string): Promise<void> {
    if (rejectedAs !== undefined && budget.requests <= 0) {
      // Part of a rejected batch, and out of bisecting budget: fail it with the parent's reason.
      this.settleRange(batch, lo, hi, 'failed', rejectedAs);
      return;
    }
    budget.requests--;
    const { shutdown, retry, clock } = this.o;
    const count = hi - lo;
    let protocol = this.o.protocol.current;
    let body = compressSync(this.encoder(protocol).encode(batch, lo, hi));
    for (let attempt = 1; ; attempt++) {
      await this.rateLimit(count);
      if (shutdown.aborted) {
        this.settleRange(batch, lo, hi, 'failed', 'shutdown');
        return;
      }
      const result = await this.request(protocol, body);
      const canFallBack = this.o.protocol.canFallBack(protocol);
      const decision = decide(result, {
        attempt,
        maxAttempts: retry.maxAttempts,
        backoff: retry,
        jitter: this.o.random(),
        samples: count,
        // A batch or one of its timestamp layers may always be split; only bisecting draws on the budget.
        bisectBudget: rejectedAs === undefined ? Math.max(budget.requests, 1) : budget.requests,
        shuttingDown: shutdown.aborted,
        canFallBack,
      });
      if (decision.kind === 'delivered') {
        const written = protocol === 'v2' ? checkWritten(count, result.kind === 'success' ? result.written : undefined, canFallBack) : { kind: 'ok' as const };
        if (written.kind === 'ok') {
          this.settleRange(batch, lo, hi, 'delivered', '');
          return;
        }
        if (written.kind === 'shortfall') {
          this.settleShortfall(batch, lo, hi, written.missing);
          return;
        }
      }
      if (decision.kind === 'delivered' || decision.kind === 'fall_back') {
        // Only reached for a 2.0 request a 1.0 receiver refused or ignored: send it again as 1.0.
        this.fellBack(result);
        protocol = this.o.protocol.current;
        body = compressSync(this.encoder(protocol).encode(batch, lo, hi));
        attempt = 0;
        continue;
      }
      if (decision.kind === 'retry') {
        this.noteRetry(batch, lo, hi, result, attempt, decision.afterMs);
        await sleepOn(clock, decision.afterMs, shutdown);
        continue;
      }
      if (decision.kind === 'bisect') {
        // A batch of a few timestamps (window ends) goes oldest timestamp first: see REPLAY_LAYERS.
        const oldest = rejectedAs === undefined ? batch.oldestLayer(lo, hi, REPLAY_LAYERS) : undefined;
        if (oldest !== undefined) {
          await this.sendRange(batch, lo, oldest, budget);
          await this.sendRange(batch, oldest, hi, budget);
          return;
        }
        // One timestamp (or many), a few writes: write by write, in order (see REPLAY_WRITES).
        const writes = rejectedAs === undefined ? batch.writeRuns(lo, hi, REPLAY_WRITES) : undefined;
        if (writes !== undefined) {
          for (let k = 0; k + 1 < writes.length; k++) await this.sendRange(batch, writes[k]!, writes[k + 1]!, budget);
          return;
        }
        const mid = lo + Math.floor(count / 2);
        await this.sendRange(batch, lo, mid, budget, decision.reason);
        await this.sendRange(batch, mid, hi, budget, decision.reason);
        return;
      }
      this.giveUp(batch, lo, hi, result, decision.reason, attempt);
      return;
    }
  }

  private async request(protocol: Protocol, body: Uint8Array): Promise<SendResult> {
    const started = performance.now();
    const result = await this.o.send(this.client(protocol), body, this.o.shutdown);
    this.o.events.request(this.o.tenant, (performance.now() - started) / 1000, result.kind, body.length);
    return result;
  }

  private encoder(protocol: Protocol): RequestEncoder {
    let encoder = this.encoders.get(protocol);
    if (encoder === undefined) this.encoders.set(protocol, (encoder = createEncoder(protocol, this.o.batchCapacity, this.order)));
    return encoder;
  }

  private client(protocol: Protocol): ClientConfig {
    let client = this.clients.get(protocol);
    if (client === undefined) this.clients.set(protocol, (client = { ...this.o.client, protocol }));
    return client;
  }

  private fellBack(result: SendResult): void {
    if (!this.o.protocol.fallBack()) return;
    this.o.events.protocolFallback(this.o.tenant);
    this.o.log.warn(
      { status: result.status, answer: result.kind === 'success' ? 'no samples confirmed written' : result.reason },
      'receiver does not accept remote-write 2.0; using 1.0 for this tenant from now on (protocol: auto)',
    );
  }

  /** The receiver wrote fewer samples than sent: which ones it does not say, so the last ones count as failed. */
  private settleShortfall(batch: Batch, lo: number, hi: number, missing: number): void {
    const cut = Math.max(lo, hi - missing);
    if (cut > lo) this.settleRange(batch, lo, cut, 'delivered', '');
    this.settleRange(batch, cut, hi, 'failed', 'not_written');
    this.o.limiter.warn('not_written', { samples: hi - lo, missing }, 'remote-write 2.0 receiver confirmed fewer samples written than sent');
  }

  private noteRetry(batch: Batch, lo: number, hi: number, result: SendResult, attempt: number, delayMs: number): void {
    this.o.events.retried(this.o.tenant, batch.weightOf(lo, hi));
    if (result.kind === 'success') return;
    const fields = { status: result.status, reason: result.reason, error: this.o.scrub(result.error), attempt, delayMs };
    this.o.log.debug(fields, 'remote-write request failed, retrying');
    if (attempt === 1 || attempt % 10 === 0) this.o.limiter.warn(`retry:${result.reason}`, fields, 'remote-write request failed; retrying');
  }

  private giveUp(batch: Batch, lo: number, hi: number, result: SendResult, reason: string, attempts: number): void {
    const count = hi - lo;
    if (reason === 'shutdown' || result.kind === 'success') {
      this.settleRange(batch, lo, hi, 'failed', reason);
      return;
    }
    if (result.kind === 'permanent' && result.status === 400) {
      // Name the first rejected sample's metric and time (never label values: they are data).
      const first = { metric: batch.refs[lo]?.labels.find((l) => l.name === '__name__')?.value, timestampMs: batch.timestamps[lo] };
      this.settleRange(batch, lo, hi, 'failed', reason);
      this.o.limiter.warn(
        `rejected:${reason}`,
        { status: 400, reason, error: this.o.scrub(result.error), samples: count, first },
        'remote-write receiver rejected samples',
      );
      return;
    }
    this.settleRange(batch, lo, hi, 'failed', reason);
    this.o.limiter.warn(
      `gaveup:${reason}`,
      { status: result.status, reason, error: this.o.scrub(result.error), attempts, samples: count },
      result.kind === 'permanent' ? 'remote-write rejected the batch' : 'remote-write gave up on the batch after retries',
      'error',
    );
  }

  private async rateLimit(count: number): Promise<void> {
    const { bucket, shutdown, clock } = this.o;
    if (bucket === undefined) return;
    for (let wait = bucket.take(count); wait > 0 && !shutdown.aborted; wait = bucket.take(count)) {
      await sleepOn(clock, wait, shutdown);
    }
  }
}
