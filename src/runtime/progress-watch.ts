import type { Logger } from 'pino';
import type { SluiceMetrics } from '../telemetry/metrics.ts';

/**
 * How long a partition may make no progress, with records to read, before the process is not
 * ready: longer than a rebalance or a consumer re-creation after a broker restart normally takes
 * (both are bounded by the session timeout), never shorter than 30 s.
 */
export function stallBoundMs(sessionTimeoutMs: number): number {
  return Math.max(30_000, 3 * sessionTimeoutMs);
}

/**
 * Whether one partition's consumer moves. It has records to read when the partition end is more
 * than one past its position (one: the commit marker a transactional producer writes after its
 * records takes an offset a read-committed consumer never sees), or when the end grew since the
 * position last moved. It stalls when it has records to read and its position does not move.
 * While the partition end cannot be read (broker down), the last known end stands.
 */
export class PartitionProgress {
  /** Wall-clock ms since which the partition has had records to read and made no progress; 0 when it progresses. */
  stalledSince = 0;
  private position: number | undefined;
  private end: number | undefined;
  private endAtProgress: number | undefined;

  /**
   * `position`: the next offset the owner will process, undefined while the owner cannot tell
   * (re-initialising: the last known position stands); `end`: the partition's end, if it could be
   * read now.
   */
  observe(position: number | undefined, end: number | undefined, now: number): void {
    if (end !== undefined) this.end = end;
    if (position === undefined) position = this.position;
    if (position === undefined) return;
    if (position !== this.position) {
      this.position = position;
      // The end read with this move, if any: a last known end older than the move is no baseline.
      // Taken as one, a partition that reached its end while the end could not be read (a broker
      // restart, a slow read) counted the end it then read as grown, and stalled for good once
      // its input stopped (exactly-once-broker-faults: not ready for 60 s with every record in).
      // The price: one record that lands in that gap, alone, shows only when the next one does.
      this.endAtProgress = end;
      this.stalledSince = 0;
      return;
    }
    if (this.end === undefined) return;
    this.endAtProgress ??= this.end;
    const pending = this.end - position > 1 || this.end > this.endAtProgress;
    if (!pending) this.stalledSince = 0;
    else if (this.stalledSince === 0) this.stalledSince = now;
  }
}

export interface StalledPartition {
  readonly stage: string;
  readonly topic: string;
  readonly partition: number;
  readonly sinceMs: number;
}

/**
 * The progress of every partition a pipeline's stages own, for `/readyz` and for
 * `sluice_partition_stalled_since_seconds`: a process whose consumer died, or whose partition is
 * stuck behind a failing transaction, is alive but not ready, and the metric says since when.
 */
export class ProgressWatch {
  private readonly partitions = new Map<string, { labels: Record<'pipeline' | 'stage' | 'topic' | 'partition', string>; progress: PartitionProgress; warned: boolean }>();

  constructor(
    private readonly pipeline: string,
    private readonly boundMs: number,
    private readonly metrics: SluiceMetrics,
    private readonly log: Logger,
  ) {}

  observe(stage: string, topic: string, partition: number, position: number | undefined, end: number | undefined, now: number): void {
    const key = `${stage}|${topic}|${partition}`;
    let entry = this.partitions.get(key);
    if (!entry) {
      entry = { labels: { pipeline: this.pipeline, stage, topic, partition: String(partition) }, progress: new PartitionProgress(), warned: false };
      this.partitions.set(key, entry);
    }
    entry.progress.observe(position, end, now);
    const since = entry.progress.stalledSince;
    this.metrics.partitionStalledSince.set(entry.labels, since / 1000);
    const stuck = since > 0 && now - since >= this.boundMs;
    if (stuck && !entry.warned) {
      this.log.warn({ stage, topic, partition, stalled_s: Math.round((now - since) / 1000) }, 'partition makes no progress although it has records to read; not ready');
    } else if (!stuck && entry.warned) {
      this.log.info({ stage, topic, partition }, 'partition progresses again');
    }
    entry.warned = stuck;
  }

  /** Stops watching partitions a stage no longer owns (their gauge series disappear). */
  retain(stage: string, owned: readonly { topic: string; partition: number }[]): void {
    const keep = new Set(owned.map((p) => `${stage}|${p.topic}|${p.partition}`));
    for (const [key, entry] of this.partitions) {
      if (entry.labels.stage !== stage || keep.has(key)) continue;
      this.metrics.partitionStalledSince.remove(entry.labels);
      this.partitions.delete(key);
    }
  }

  /** Partitions stalled for longer than the bound. */
  stalled(now: number): StalledPartition[] {
    const out: StalledPartition[] = [];
    for (const { labels, progress } of this.partitions.values()) {
      const since = progress.stalledSince;
      if (since > 0 && now - since >= this.boundMs) out.push({ stage: labels.stage, topic: labels.topic, partition: Number(labels.partition), sinceMs: since });
    }
    return out;
  }
}
