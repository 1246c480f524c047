/**
 * One write's way into the shard queues, sample by sample: a sample of a resolved series is
 * queued on its shard (admitted, or folded into the overflow series past max_active_series), a
 * stale marker ends its series, and what cannot be sent is counted, then settled and logged once
 * per write (end()), not once per sample.
 *
 * It takes samples two ways: one at a time with their resolution (add(), for Sample arrays), or
 * as the samples of a metric point (point(), then the flattener calls sample() for each), whose
 * series were resolved once for the point: no Sample object and no catalog lookup per sample.
 */
import type { HistogramValue, MetricDescriptor, MetricPoint } from '../../core/metric-model.ts';
import { isStaleMarker } from '../../core/stale-marker.ts';
import type { SampleTarget } from '../prometheus/flatten.ts';
import type { AllSenderEvents } from './events.ts';
import type { LogLimiter } from './log-limiter.ts';
import { OverflowFolds } from './overflow-folds.ts';
import { untrackedRef } from './series-catalog.ts';
import type { Resolution, SeriesCatalog, SeriesRef } from './series-catalog.ts';
import type { SettleKind, Ticket } from './settlement.ts';
import type { ShardBatcher } from './shard-batcher.ts';

export interface IntakeOptions {
  readonly tenant: string;
  readonly catalog: SeriesCatalog;
  readonly batcher: ShardBatcher;
  readonly events: AllSenderEvents;
  readonly limiter: LogLimiter;
  readonly maxActiveSeries: number | undefined;
  /** Settles samples of a ticket that never reached a queue, with one event. */
  readonly settleNow: (ticket: Ticket, n: number, kind: Exclude<SettleKind, 'delivered'>, reason: string) => void;
}

export class Intake implements SampleTarget {
  private ticket: Ticket | undefined;
  private now = 0;
  private invalid = 0;
  private invalidReason = '';
  private filtered = 0;
  private staleOverflow = 0;
  private folds: OverflowFolds | undefined;
  /** The point whose samples sample() takes, and its series' resolutions (in flattening order). */
  private resolutions: readonly Resolution[] = [];
  private ts = 0;
  private start: number | undefined;
  private metric: MetricDescriptor | undefined;

  constructor(private readonly o: IntakeOptions) {}

  /** Starts a write: its samples settle against `ticket`. */
  begin(ticket: Ticket, now: number): void {
    this.ticket = ticket;
    this.now = now;
    this.invalid = 0;
    this.invalidReason = '';
    this.filtered = 0;
    this.staleOverflow = 0;
    this.folds = undefined;
  }

  /** The samples of `point` follow (sample()); `resolutions` are its series' (SeriesCatalog.resolveAll). */
  point(point: MetricPoint, resolutions: readonly Resolution[]): void {
    this.resolutions = resolutions;
    this.ts = point.timestampMs;
    this.start = point.startTimestampMs;
    this.metric = point.metric;
  }

  sample(k: number, value: number, histogram: HistogramValue | undefined): void {
    const resolution = this.resolutions[k];
    if (resolution === undefined) {
      // More values than the label sets cached for its series (its bounds changed): not sendable.
      this.invalid++;
      this.invalidReason = 'a point has more values than its series';
      return;
    }
    this.add(resolution, value, this.ts, this.start, this.metric, histogram);
  }

  /** Takes one sample of the series `resolution` stands for. */
  add(resolution: Resolution, value: number, ts: number, start: number | undefined, metric: MetricDescriptor | undefined, histogram: HistogramValue | undefined): void {
    if (resolution.kind !== 'series') {
      if (resolution.kind === 'filtered') this.filtered++;
      else {
        this.invalid++;
        this.invalidReason = resolution.reason;
      }
      return;
    }
    // int64 on the wire: a fractional or unsafe number would be silently mangled.
    if (!Number.isSafeInteger(ts)) {
      this.invalid++;
      this.invalidReason = `timestamp ${ts} is not an integer number of milliseconds`;
      return;
    }
    const catalog = this.o.catalog;
    if (value !== value && isStaleMarker(value)) {
      // The series ended: send the marker with its labels, then forget it.
      const tracked = catalog.find(resolution);
      if (tracked !== undefined) {
        this.enqueue(tracked, value, ts, start, metric, histogram);
        catalog.forget(tracked);
      } else if (resolution.overflowTo?.active === true) {
        this.staleOverflow++; // the overflow series goes on; a NaN would poison its sum
      } else {
        this.enqueue(untrackedRef(resolution), value, ts, start, metric, histogram);
      }
      return;
    }
    const series = catalog.admit(resolution, this.now);
    if (series !== undefined) {
      this.enqueue(series, value, ts, start, metric, histogram);
      return;
    }
    const target = catalog.overflowFor(resolution, this.now);
    if ('kind' in target) {
      this.invalid++;
      this.invalidReason = target.reason;
      return;
    }
    this.folds ??= new OverflowFolds();
    const unfoldable = this.folds.add(target, ts, value, histogram, metric);
    if (unfoldable !== undefined) {
      this.invalid++;
      this.invalidReason = unfoldable;
    }
  }

  /** Ends the write: queues the overflow folds, settles and reports what was not queued. */
  end(): void {
    const { batcher, events, limiter, tenant, settleNow } = this.o;
    const ticket = this.ticket!;
    const folds = this.folds;
    if (folds !== undefined && folds.size > 0) {
      const overflowed = folds.size;
      // An overflow series stands for many: no start time of its own.
      folds.drain((target, sum, ts, metric, weight, histogram) => batcher.ring(target.shard).push(target, sum, ts, Number.NaN, metric, weight, ticket, histogram));
      events.overflowed(tenant, overflowed);
      limiter.warn('overflow', { samples: overflowed, max_active_series: this.o.maxActiveSeries }, 'series over max_active_series folded into the overflow series');
    }
    if (this.invalid > 0) {
      settleNow(ticket, this.invalid, 'failed', 'invalid_sample');
      // One line per episode, not per sample: a bad producer would flood the log.
      limiter.warn('invalid', { samples: this.invalid, reason: this.invalidReason }, 'remote-write dropped invalid samples');
    }
    if (this.filtered > 0) settleNow(ticket, this.filtered, 'filtered', 'metric_filtered');
    if (this.staleOverflow > 0) settleNow(ticket, this.staleOverflow, 'filtered', 'stale_overflow');
    this.ticket = undefined;
    this.folds = undefined;
    this.resolutions = [];
    this.metric = undefined;
  }

  private enqueue(ref: SeriesRef, value: number, ts: number, start: number | undefined, metric: MetricDescriptor | undefined, histogram: HistogramValue | undefined): void {
    // A start time is an int64 too; one that is not a safe integer is not sent rather than mangled.
    const startMs = start !== undefined && Number.isSafeInteger(start) ? start : Number.NaN;
    this.o.batcher.ring(ref.shard).push(ref, value, ts, startMs, metric, 1, this.ticket!, histogram);
  }
}
