import type { WindowMerger } from '../operators/windowed-metrics/window-merger.ts';
import type { Outbox } from './outbox.ts';
import type { Scheduler } from './scheduler.ts';

/**
 * How a watermark jump that closes several windows (the final idle close, a catch-up after a
 * stall) fires them: a window at a time while at most `aheadSamples` samples of the partition are
 * unacknowledged (of the tenants acknowledging: `CatchUpPacer`); past that, the next once
 * acknowledgements bring them down to `resumeSamples`, or after `waitMs` without that. All at once, every window's points, the sink's queues and their
 * requests were alive together: pipeline-bench's final close built 10–20 windows in one go.
 * Measured (pipeline-bench, 1M records, 5 runs each way taking turns, load 6–16): the final close
 * added 7–26 MiB over the run's own RSS high before (mean 17), 0–6 after (mean 2); large-object
 * space at most 7–20 MiB before, 1.5 after; no catch-up pause before the final close in a run.
 */
export interface CatchUpBounds {
  readonly aheadSamples: number;
  readonly resumeSamples: number;
  readonly waitMs: number;
  /** A tenant with samples waiting and no acknowledgement for this long is not counted (see `CatchUpPacer`). */
  readonly stalledAfterMs: number;
}

export const CATCH_UP: CatchUpBounds = {
  // A few requests' worth: sending goes on while the next windows are built (a window of a large
  // tenant is more than this anyway, and then waits for its predecessor's acknowledgements).
  aheadSamples: 10_000,
  // Half: a wait lets several windows fire, not one per acknowledged request (one per request
  // took pipeline-bench's final close 2 s longer).
  resumeSamples: 5_000,
  // A receiver that does not acknowledge: the next window goes after this anyway.
  waitMs: 1_000,
  // Two waits: a tenant whose receiver goes down holds the others' windows for about 2 s once, not
  // a second per window for as long as it is down. A receiver up but this slow to answer anything
  // counts as down here (its windows fire unpaced, its samples wait in the outbox as a dead one's).
  // Measured (test/integration/catch-up-isolation.test.ts, 30 windows of a healthy tenant next to
  // a dead one): 26.1 s first to last counted with the dead tenant, 6.7 and 3.8 s left out. In
  // pipeline-bench (every receiver up) no tenant was ever left out: the pacing is unchanged there.
  stalledAfterMs: 2_000,
};

/**
 * Paces a partition's catch-up on the unacknowledged samples that acknowledgements will free
 * soon: those of the tenants whose receivers acknowledge (`stalledAfterMs`). The pacing is there
 * for memory (a window's points, its requests, alive at once), and a dead receiver's samples do
 * not drain whatever the pace: counted, they held every tenant's windows to one per `waitMs`, so
 * one tenant's outage delayed the metrics of all the others on the partition.
 *
 * Per-tenant room is not possible: a partition has one merger, which fires a window end for all
 * its tenants at once and in order of the ends (the outbox keeps each tenant's order and its
 * exactly-once acknowledgements). Past `max_outbox_samples` every sample counts again, as before
 * this change: the partition is over its memory bound, and a dead receiver's windows then come one
 * per wait (the input is paused meanwhile anyway). So does every sample when no receiver of the
 * partition has answered for `stalledAfterMs` (all down, or one shared receiver): nothing then
 * tells a dead receiver from a live one (found in review: the pacing was off in that case).
 */
export class CatchUpPacer {
  constructor(
    private readonly outbox: Outbox,
    private readonly bounds: CatchUpBounds,
    private readonly clock: Scheduler,
    private readonly maxOutboxSamples: () => number,
  ) {}

  /** Unacknowledged samples the bounds apply to. */
  held(): number {
    const all = this.outbox.size;
    return all > this.maxOutboxSamples() ? all : this.outbox.flowingSize(this.bounds.stalledAfterMs);
  }

  /** `stepWatermark` under these bounds. */
  step(merger: WindowMerger, target: number): boolean {
    return stepWatermark(merger, target, this.outbox, this.bounds.aheadSamples, () => this.held());
  }

  /** Resolves once the held samples have drained to `resumeSamples`, or after `waitMs` (closing the outbox ends the wait too). */
  async room(): Promise<void> {
    // The wait's own signal ends its timer when room comes first.
    const waited = new AbortController();
    const drained = this.outbox.drainedTo(this.bounds.resumeSamples, () => this.held()).then(() => waited.abort());
    await Promise.race([drained, this.clock.sleep(this.bounds.waitMs, waited.signal)]);
  }
}

/**
 * Moves `merger`'s watermark towards `target` a window at a time: true when it is there; false
 * when a window fired past the outbox's room (more than `aheadSamples` of the `held` samples) and
 * more are due, which the caller fires later (after `CatchUpPacer.room`), processing no record in
 * between. What is emitted, and in which order, is then what one jump emits: time windows fire
 * in order of their end, whatever steps the watermark takes. Each step goes to the next window's
 * firing time, so an empty gap of any length is one step (stepping by the slide, a record dated in
 * the year 9999 took minutes of blocked loop per partition: found in review). Sessions jump at
 * once (nextFireAt).
 */
export function stepWatermark(merger: WindowMerger, target: number, outbox: Pick<Outbox, 'size'>, aheadSamples: number, held = () => outbox.size): boolean {
  while (merger.currentWatermark < target) {
    const before = outbox.size;
    const next = merger.nextFireAt;
    // A window admitted after the watermark passed its firing time fires with this jump, as it always did.
    merger.advanceWatermark(next > merger.currentWatermark ? Math.min(target, next) : target);
    // While the outbox has room, the next window fires now: no pause, no batch fetched again.
    if (outbox.size !== before && held() > aheadSamples && merger.currentWatermark < target) return false;
  }
  return true;
}
