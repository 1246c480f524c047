import type { ConsumeOptions, Consumer, PartitionOffset, SourceBatch, TopicPartition } from '../../../src/sources/kafka/client.ts';
import type { PartitionLog } from './partition-log.ts';

const keyOf = (p: TopicPartition): string => `${p.topic}/${p.partition}`;

/** What a group needs from the cluster it lives in. */
export interface GroupCluster {
  log(topic: string, partition: number): PartitionLog;
  partitions(topic: string): number;
  committed(groupId: string, partition: TopicPartition): number;
  available(): boolean;
}

/**
 * One consumer-group member (what `consume` returns). Holds its assignment, a fetch position per
 * partition, paused partitions, and a seek count per partition so a batch fetched before a seek
 * reports itself superseded (as the kafkajs adapter does).
 */
export class FakeMember implements Consumer {
  assignment: TopicPartition[] = [];
  readonly paused = new Set<string>();
  readonly seeks: PartitionOffset[] = [];
  private readonly positions = new Map<string, number>();
  private readonly seekCounts = new Map<string, number>();
  stopped = false;

  constructor(
    readonly group: FakeGroup,
    readonly options: ConsumeOptions,
  ) {}

  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.paused.add(keyOf(p));
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.paused.delete(keyOf(p));
  }

  seek(partition: PartitionOffset): void {
    this.seeks.push({ topic: partition.topic, partition: partition.partition, offset: partition.offset });
    this.positions.set(keyOf(partition), partition.offset);
    this.bumpSeeks(partition);
  }

  rejoin(): void {
    // kafkajs re-joins asynchronously, after the caller's current work.
    queueMicrotask(() => {
      if (this.stopped) return;
      this.group.rejoin(this);
    });
  }

  /** The process died: it leaves the group (after its session timeout) and never runs again. */
  crash(): void {
    this.stopped = true;
    this.group.remove(this);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.group.remove(this);
  }

  /** Takes a new assignment: positions re-read from committed offsets, as kafkajs does after a rebalance. */
  assign(partitions: TopicPartition[], cluster: GroupCluster): void {
    this.assignment = partitions;
    const owned = new Set(partitions.map(keyOf));
    for (const key of this.paused) if (!owned.has(key)) this.paused.delete(key);
    for (const p of partitions) {
      const committed = cluster.committed(this.options.groupId, p);
      this.positions.set(keyOf(p), committed >= 0 ? committed : this.options.fromBeginning ? 0 : cluster.log(p.topic, p.partition).high);
      this.bumpSeeks(p);
    }
    this.options.onAssigned(partitions);
  }

  /** Fetches and hands over one batch per owned, unpaused partition with data; returns the records delivered. */
  async poll(cluster: GroupCluster, maxRecords: number): Promise<number> {
    let delivered = 0;
    for (const p of [...this.assignment]) {
      if (this.stopped || !cluster.available()) break;
      const key = keyOf(p);
      if (this.paused.has(key) || !this.assignment.some((a) => keyOf(a) === key)) continue;
      const log = cluster.log(p.topic, p.partition);
      const from = this.positions.get(key) ?? 0;
      const { records, next } = log.read(from, maxRecords);
      if (next === from) continue;
      this.positions.set(key, next);
      if (records.length === 0) continue;
      const fetchedAt = this.seekCounts.get(key) ?? 0;
      const batch: SourceBatch = {
        topic: p.topic,
        partition: p.partition,
        records,
        highWatermark: log.high,
        superseded: () => (this.seekCounts.get(key) ?? 0) !== fetchedAt,
      };
      delivered += records.length;
      await this.options.onBatch(batch);
    }
    return delivered;
  }

  private bumpSeeks(p: TopicPartition): void {
    const key = keyOf(p);
    this.seekCounts.set(key, (this.seekCounts.get(key) ?? 0) + 1);
  }
}

/** A consumer group: its members, in join order, share the subscribed partitions round-robin. */
export class FakeGroup {
  readonly members: FakeMember[] = [];
  /** Rebalances so far (every join, leave and re-join is one). */
  generation = 0;

  constructor(
    readonly groupId: string,
    private readonly cluster: GroupCluster,
  ) {}

  join(options: ConsumeOptions): FakeMember {
    const member = new FakeMember(this, options);
    this.members.push(member);
    this.rebalance();
    return member;
  }

  /**
   * `member` leaves, or the group stops hearing from it (frozen, its session timed out): the group
   * rebalances without telling it. An expelled member that is not stopped goes on as if it still
   * owned its partitions until it re-joins.
   */
  remove(member: FakeMember): void {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    this.rebalance();
  }

  rejoin(member: FakeMember): void {
    if (!this.members.includes(member)) this.members.push(member);
    this.rebalance();
  }

  /** Assigns every subscribed partition again and tells each member its full set. */
  rebalance(): void {
    this.generation++;
    const topics = [...new Set(this.members.flatMap((m) => m.options.topics))].sort();
    const all = topics.flatMap((topic) => Array.from({ length: this.cluster.partitions(topic) }, (_, partition) => ({ topic, partition })));
    const shares = this.members.map((): TopicPartition[] => []);
    all.forEach((p, i) => shares[i % shares.length]?.push(p));
    this.members.forEach((member, i) => member.assign(shares[i]!, this.cluster));
  }
}
