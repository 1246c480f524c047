import type { Logger } from 'pino';
import type { PipelineConfig } from '../config/schema.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import type { Scheduler } from './scheduler.ts';
import type { Serial } from './serial.ts';

/** How long a partition waits on a partials message it cannot read before it reads it again. */
const UNREADABLE_RETRY_MS = 5_000;

/** What one stage-2 partition gives its unreadable-message handling. */
export interface UnreadableHost {
  readonly config: PipelineConfig;
  readonly partition: number;
  readonly metrics: SluiceMetrics;
  readonly log: Logger;
  readonly clock: Scheduler;
  /** The partition's lock: a retry runs in it, as every other job of the partition. */
  readonly serial: Serial;
  /** Aborted when the partition closes: ends a pending retry. */
  readonly closing: AbortSignal;
  /** Stops fetching the partition. */
  pause(): void;
  /** Fetches the partition again from its position, unless something else keeps it paused. */
  resumeIfAllowed(): void;
}

/**
 * What a stage-2 partition does with a partials message it cannot decode: written by a newer
 * release's stage 1 (a wire version or a label set this config lacks, until this instance is
 * upgraded or reloaded) or a defect. Skipping it would lose its partials for good, so by default
 * the partition waits on it (`waitOn`); only an offset the operator lists in
 * `repartition.skip_unreadable` is moved past, which the caller applies (README "Upgrading
 * instances"). A message that decodes never comes here, listed or not.
 */
export class UnreadablePartials {
  /** The offset this partition waits on; -1: none. */
  private waitingOn = -1;
  /** This partition's offsets of `repartition.skip_unreadable`, read once when the task starts. */
  private readonly skippable: ReadonlySet<number>;

  constructor(private readonly host: UnreadableHost) {
    this.skippable = new Set(host.config.repartition.skip_unreadable.filter((entry) => entry.partition === host.partition).map((entry) => entry.offset));
  }

  /** True while the partition waits on a message (its own retry resumes it, nothing else may). */
  get waiting(): boolean {
    return this.waitingOn >= 0;
  }

  /** The partition read a message: whatever it waited on is behind it. */
  readable(): void {
    this.waitingOn = -1;
  }

  /**
   * The message at `offset` cannot be decoded (`error`; decoding changed nothing). 'skip': the
   * operator listed it, the caller moves its offset past it. 'wait': the partition is paused on it.
   */
  decide(offset: number, error: unknown): 'skip' | 'wait' {
    if (!this.skippable.has(offset)) {
      this.waitOn(offset, error);
      return 'wait';
    }
    const { metrics, config, log, partition } = this.host;
    this.waitingOn = -1;
    metrics.partialsSkipped.inc({ pipeline: config.name });
    // The error's message only: never the message's bytes, which may hold tenants' label values
    // (the stage's logger names the pipeline).
    const reason = error instanceof Error ? error.message : String(error);
    log.warn({ partition, offset, error: reason }, 'unreadable partials message skipped, as repartition.skip_unreadable lists it: its partials are lost');
    return 'skip';
  }

  /**
   * Stops the partition at the message and reads it again every few seconds; the other partitions
   * go on, no rebalance follows (a throw to kafkajs would re-create the consumer and rebalance the
   * whole group each time), and the stall shows in `sluice_partition_stalled_since_seconds` and
   * `/readyz`.
   */
  private waitOn(offset: number, error: unknown): void {
    const { metrics, config, log, partition } = this.host;
    metrics.unreadablePartials.inc({ pipeline: config.name });
    if (this.waitingOn !== offset) log.error({ err: error, partition, offset }, 'partials message stage 2 cannot read: the partition waits on it (a newer release writing? see README "Upgrading instances")');
    this.waitingOn = offset;
    this.host.pause();
    void this.host.clock
      .sleep(UNREADABLE_RETRY_MS, this.host.closing)
      .then(() => this.host.serial.run(async () => {
        if (this.waitingOn === offset) this.host.resumeIfAllowed();
      }))
      .catch(() => {}); // closed meanwhile
  }
}
