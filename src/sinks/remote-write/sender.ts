/**
 * One tenant's send queue: batching, one request in flight, retries.
 *
 * Exactly one request is in flight per tenant because Prometheus rejects a
 * sample older than the newest one it already has for that series; two
 * concurrent requests could land out of order and lose data. Throughput comes
 * from batch size and from tenants sending in parallel, not from concurrency
 * within a tenant.
 */
import type { Logger } from 'pino';
import type { Sample } from '../../core/types.ts';
import { backoffDelay } from './backoff.ts';
import { sendWriteRequest } from './client.ts';
import type { ClientConfig, SendResult } from './client.ts';
import type { RemoteWriteConfig } from './config.ts';
import { buildRequestBody } from './encode.ts';

/**
 * Counting hooks, implemented by telemetry with prom-client counters. Sample
 * counts, not request counts. `reason` is a low-cardinality metric label:
 * `http_<status>`, `network`, `timeout`, `invalid_sample`, `queue_full`,
 * `closed` (enqueued after close), `shutdown` (close aborted), `internal` (bug).
 */
export interface SenderEvents {
  sent(tenant: string, samples: number): void;
  failed(tenant: string, samples: number, reason: string): void;
  /** A batch of `samples` is about to be retried (once per retry). */
  retried(tenant: string, samples: number): void;
  /** Samples waiting in the queue, excluding the batch in flight. */
  queued(tenant: string, depth: number): void;
}

export const noopSenderEvents: SenderEvents = {
  sent() {},
  failed() {},
  retried() {},
  queued() {},
};

export type SendFunction = (config: ClientConfig, body: Uint8Array, signal: AbortSignal) => Promise<SendResult>;

export interface TenantSenderOptions {
  readonly tenant: string;
  readonly config: RemoteWriteConfig;
  readonly logger: Logger;
  readonly events?: SenderEvents;
  /** The HTTP call; defaults to sendWriteRequest. Injected by tests. */
  readonly send?: SendFunction;
  /** Jitter source in [0, 1); defaults to Math.random. Injected by tests. */
  readonly random?: () => number;
}

/** A run of samples from one enqueue() call, consumed from `start`. */
interface Segment {
  readonly samples: readonly Sample[];
  start: number;
  readonly enqueuedAt: number;
}

interface FlushWaiter {
  /** Resolve once this many samples (counted since construction) have settled. */
  readonly target: number;
  readonly resolve: () => void;
}

/** Consumed segments are compacted away once this many pile up at the front. */
const COMPACT_AFTER = 1024;

export class TenantSender {
  readonly tenant: string;
  private readonly config: RemoteWriteConfig;
  private readonly log: Logger;
  private readonly events: SenderEvents;
  private readonly send: SendFunction;
  private readonly random: () => number;

  // FIFO of segments; `head` indexes the oldest so dequeuing is O(1) (no shift()).
  private segments: Segment[] = [];
  private head = 0;
  /** Samples waiting, not counting the batch in flight. */
  private depth = 0;
  // Monotonic counters give flush() its meaning without tracking samples:
  // the queue is FIFO, so "everything enqueued before flush() has settled"
  // is exactly "settled >= accepted as of the call".
  private accepted = 0;
  private settled = 0;
  /** Cut partial batches until this many samples have been dequeued (set by flush). */
  private flushUpTo = 0;
  private readonly waiters: FlushWaiter[] = [];

  private pumping = false;
  private kickScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private dropLogged = false;
  /** Fires when close() is cut short: aborts the request in flight and the backoff sleep. */
  private readonly shutdown = new AbortController();

  constructor(options: TenantSenderOptions) {
    this.tenant = options.tenant;
    this.config = options.config;
    this.events = options.events ?? noopSenderEvents;
    this.send = options.send ?? sendWriteRequest;
    this.random = options.random ?? Math.random;
    // Origin only: the path or query of some hosted endpoints carries a token,
    // and headers (Authorization, X-Scope-OrgID…) are never logged at all.
    this.log = options.logger.child({ tenant: this.tenant, endpoint: new URL(this.config.endpoint).origin });
  }

  /**
   * Queues samples for sending. Never blocks and never throws: samples that
   * cannot be queued (queue full, sender closed) are counted as failed. The
   * arrays are kept by reference until sent, so callers must not mutate them.
   */
  enqueue(samples: readonly Sample[]): void {
    try {
      if (samples.length === 0) return;
      if (this.closed) {
        this.drop(samples.length, 'closed', 'samples enqueued after close were dropped');
        return;
      }
      const room = this.config.queue.max_samples - this.depth;
      if (room < samples.length) {
        this.drop(samples.length - Math.max(room, 0), 'queue_full', 'queue is full, dropping samples');
        if (room <= 0) return;
        samples = samples.slice(0, room);
      } else {
        this.dropLogged = false;
      }
      this.segments.push({ samples, start: 0, enqueuedAt: Date.now() });
      this.depth += samples.length;
      this.accepted += samples.length;
      this.schedule();
      this.events.queued(this.tenant, this.depth);
    } catch (error) {
      this.log.error({ err: error }, 'remote-write enqueue failed');
    }
  }

  /** Resolves when every sample enqueued before this call has been sent or has failed. */
  flush(): Promise<void> {
    const target = this.accepted;
    if (this.settled >= target) return Promise.resolve();
    this.flushUpTo = target;
    return new Promise((resolve) => {
      this.waiters.push({ target, resolve });
      this.kick();
    });
  }

  /**
   * Stops accepting samples, sends what is queued (retries included), then
   * stops the timer. If `signal` fires first, the request in flight is aborted
   * and everything still queued is counted as failed with reason `shutdown`.
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
      this.clearTimer();
    }
  }

  /** Runs the pump now if a batch is due, otherwise makes sure a timer will. */
  private schedule(): void {
    if (this.pumping) return; // the running pump re-checks after its request
    if (this.batchDue()) this.kick();
    else if (this.timer === undefined) this.armTimer();
  }

  /**
   * Starts the pump on a microtask, so a burst of enqueue() calls in one tick
   * coalesces into one batch and enqueue() never encodes on the caller's stack.
   */
  private kick(): void {
    if (this.pumping || this.kickScheduled) return;
    this.kickScheduled = true;
    queueMicrotask(() => {
      this.kickScheduled = false;
      void this.pump();
    });
  }

  /** The single consumer of the queue: at most one of these runs at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    this.clearTimer();
    try {
      while (this.depth > 0) {
        if (!this.batchDue()) {
          this.armTimer();
          break;
        }
        const batch = this.cut();
        try {
          this.events.queued(this.tenant, this.depth);
          await this.deliver(batch);
        } finally {
          // Whatever happened, these samples are done with: flush() must see them.
          this.settle(batch.length);
        }
      }
    } catch (error) {
      // Only reachable through a bug (deliver() handles its own failures);
      // keep the sender alive so flush() cannot hang on it.
      this.log.error({ err: error }, 'remote-write pump failed');
    } finally {
      this.pumping = false;
    }
    // Cover samples queued while an unexpected error unwound the loop.
    if (this.depth > 0 && this.timer === undefined && !this.kickScheduled) this.armTimer();
  }

  private batchDue(): boolean {
    if (this.depth === 0) return false;
    if (this.depth >= this.config.batch.max_samples) return true;
    if (this.closed || this.accepted - this.depth < this.flushUpTo) return true;
    return Date.now() - this.segments[this.head]!.enqueuedAt >= this.config.batch.max_delay;
  }

  private armTimer(): void {
    const oldest = this.segments[this.head];
    if (oldest === undefined) return;
    const wait = Math.max(0, oldest.enqueuedAt + this.config.batch.max_delay - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, wait);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Takes the oldest max_samples (or fewer) samples off the queue. */
  private cut(): readonly Sample[] {
    const max = this.config.batch.max_samples;
    const first = this.segments[this.head]!;
    const firstSize = first.samples.length;
    // Common case: one enqueue() call's array is exactly the batch; send it as is.
    if (first.start === 0 && (firstSize === max || (firstSize < max && this.head + 1 === this.segments.length))) {
      this.popSegment();
      this.depth -= firstSize;
      return first.samples;
    }
    const batch: Sample[] = [];
    while (batch.length < max && this.head < this.segments.length) {
      const segment = this.segments[this.head]!;
      const end = Math.min(segment.samples.length, segment.start + (max - batch.length));
      for (let i = segment.start; i < end; i++) batch.push(segment.samples[i]!);
      if (end === segment.samples.length) this.popSegment();
      else segment.start = end;
    }
    this.depth -= batch.length;
    return batch;
  }

  private popSegment(): void {
    this.head++;
    if (this.head === this.segments.length) {
      this.segments = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.segments.length) {
      this.segments.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Sends one batch, retrying as configured. Accounts for every sample; never throws. */
  private async deliver(batch: readonly Sample[]): Promise<void> {
    if (this.shutdown.signal.aborted) {
      this.countFailed(batch.length, 'shutdown');
      return;
    }
    let pending = batch.length; // samples not yet counted, for the catch below
    try {
      const request = buildRequestBody(batch);
      if (request.rejected.length > 0) {
        pending -= request.rejected.length;
        this.countFailed(request.rejected.length, 'invalid_sample');
        // One line per batch, not per sample: a bad producer would flood the log.
        this.log.warn(
          { samples: request.rejected.length, reason: request.rejected[0]!.reason },
          'remote-write dropped invalid samples',
        );
      }
      if (request.accepted === 0) return;

      const { max_attempts: maxAttempts, initial_backoff: initialMs, max_backoff: maxMs } = this.config.retry;
      const shutdown = this.shutdown.signal;
      let result: SendResult;
      let attempt = 0;
      for (;;) {
        attempt++;
        result = await this.send(this.config, request.body, shutdown);
        if (result.kind === 'success') {
          pending = 0;
          this.events.sent(this.tenant, request.accepted);
          return;
        }
        if (result.kind === 'permanent' || attempt >= maxAttempts || shutdown.aborted) break;
        const delayMs = backoffDelay({ initialMs, maxMs }, attempt, result.retryAfterMs, this.random);
        this.events.retried(this.tenant, request.accepted);
        this.log.debug(
          { status: result.status, reason: result.reason, error: result.error, attempt, delayMs },
          'remote-write request failed, retrying',
        );
        await sleep(delayMs, shutdown);
        if (shutdown.aborted) break;
      }
      pending = 0;
      // A request cut by close()'s signal reports 'aborted'; the cause is the shutdown.
      if (shutdown.aborted) {
        this.countFailed(request.accepted, 'shutdown');
        return;
      }
      this.countFailed(request.accepted, result.reason);
      // The single log line for this failure; the retries before it logged at debug.
      this.log.error(
        { status: result.status, reason: result.reason, error: result.error, attempts: attempt, samples: request.accepted },
        result.kind === 'permanent' ? 'remote-write rejected the batch' : 'remote-write gave up on the batch after retries',
      );
    } catch (error) {
      this.log.error({ err: error }, 'remote-write batch failed unexpectedly');
      if (pending > 0) this.countFailed(pending, 'internal');
    }
  }

  private settle(samples: number): void {
    this.settled += samples;
    let released = 0;
    while (released < this.waiters.length && this.waiters[released]!.target <= this.settled) {
      this.waiters[released]!.resolve();
      released++;
    }
    if (released > 0) this.waiters.splice(0, released);
  }

  private countFailed(samples: number, reason: string): void {
    this.events.failed(this.tenant, samples, reason);
  }

  /** Counts samples refused at enqueue time; logs once per episode, not per call. */
  private drop(samples: number, reason: 'closed' | 'queue_full', message: string): void {
    this.countFailed(samples, reason);
    if (!this.dropLogged) {
      this.dropLogged = true;
      this.log.warn({ samples, reason, depth: this.depth }, message);
    }
  }
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
