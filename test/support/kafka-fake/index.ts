import type {
  CommittedOffset,
  ConsumeOptions,
  Consumer,
  KafkaClient,
  KafkaHeaders,
  PartitionEnds,
  SourceRecord,
  TopicPartition,
  TopicSpec,
  TransactionContent,
  TransactionalProducer,
} from '../../../src/sources/kafka/client.ts';
import { KafkaUnavailableError } from '../../../src/sources/kafka/client.ts';
import { FakeGroup, type FakeMember, type GroupCluster } from './consumer-group.ts';
import { PartitionLog } from './partition-log.ts';
import { TransactionCoordinator, type CommitFault, type TransactionCluster } from './transactions.ts';

export type { FakeMember } from './consumer-group.ts';

/** What the client sees while the broker is unavailable. */
export class BrokerUnavailableError extends KafkaUnavailableError {
  constructor() {
    super('fake broker unavailable');
    this.name = 'BrokerUnavailableError';
  }
}

/**
 * An in-memory Kafka cluster behind the KafkaClient seam, on the model of Kafka Streams'
 * TopologyTestDriver: topics with partitions and offsets, consumer groups with assignment and
 * rebalances, seek / pause / resume, transactional producers fenced by transactional id,
 * read_committed visibility, committed offsets with metadata, and injected faults (the next
 * commit fails or stops half-way, the broker is unavailable).
 *
 * Nothing runs by itself: the test delivers fetched batches with `poll` (the consumers' fetch
 * loop), so every interleaving a test needs is explicit. Several clients can share one cluster
 * (`client()`), as instances of Sluice share one Kafka.
 */
export class FakeKafka implements GroupCluster, TransactionCluster {
  private readonly topics = new Map<string, PartitionLog[]>();
  private readonly groups = new Map<string, FakeGroup>();
  private readonly offsets = new Map<string, { offset: number; metadata: string | null }>();
  private readonly faults: CommitFault[] = [];
  readonly coordinator = new TransactionCoordinator(this);
  /** False while the broker is unavailable: every call fails and nothing is fetched. */
  up = true;
  /** Transactions committed so far, in order. */
  readonly commits: TransactionContent[] = [];

  constructor(topics: Record<string, number> = {}) {
    for (const [topic, partitions] of Object.entries(topics)) this.createTopic(topic, partitions);
  }

  createTopic(topic: string, partitions: number): void {
    if (this.topics.has(topic)) return;
    this.topics.set(
      topic,
      Array.from({ length: partitions }, (_, p) => new PartitionLog(topic, p)),
    );
  }

  /** Writes one record outside any transaction (a source producer); returns its offset. */
  produce(topic: string, partition: number, value: Buffer | string, key: string | null = null, headers: KafkaHeaders = {}): number {
    return this.log(topic, partition).append(key === null ? null : Buffer.from(key), Buffer.from(value), headers);
  }

  /** Every record of a topic a read_committed reader sees, partition by partition. */
  visible(topic: string): SourceRecord[] {
    return (this.topics.get(topic) ?? []).flatMap((log) => log.visible());
  }

  group(groupId: string): FakeGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new FakeGroup(groupId, this);
      this.groups.set(groupId, group);
    }
    return group;
  }

  /** One fetch round of every member of every group; returns the records delivered. */
  async poll(maxRecords = 500): Promise<number> {
    let delivered = 0;
    for (const group of [...this.groups.values()]) for (const member of [...group.members]) delivered += await member.poll(this, maxRecords);
    return delivered;
  }

  /** The next commit throws `error` (by default after the broker aborted it; `afterCommit`: after it committed). */
  failNextCommit(error: unknown = new Error('fake broker: coordinator not available'), options: { afterCommit?: boolean } = {}): void {
    this.faults.push({ error, ...options });
  }

  /**
   * The next commit writes its records in an open transaction and waits there until `release`:
   * the window in which a new owner can fence it mid-transaction. `reached` resolves once it waits.
   */
  holdNextCommit(): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    this.faults.push({
      get hold() {
        reached();
        return hold;
      },
    });
    return { reached: arrived, release };
  }

  /** A client on this cluster, as one Sluice process holds. */
  client(): FakeKafkaClient {
    return new FakeKafkaClient(this);
  }

  // --- the cluster, as its groups and coordinator see it ---

  log(topic: string, partition: number): PartitionLog {
    const log = this.topics.get(topic)?.[partition];
    if (!log) throw new Error(`fake kafka: no partition ${topic}/${partition}`);
    return log;
  }

  partitions(topic: string): number {
    return this.topics.get(topic)?.length ?? 0;
  }

  partitionFor(topic: string, key: Buffer | string | null | undefined): number {
    const text = key === null || key === undefined ? '' : key.toString();
    let hash = 0;
    for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
    return hash % Math.max(1, this.partitions(topic));
  }

  committed(groupId: string, p: TopicPartition): number {
    return this.offsets.get(`${groupId}|${p.topic}/${p.partition}`)?.offset ?? -1;
  }

  committedOffsets(groupId: string, topics: readonly string[]): CommittedOffset[] {
    return topics.flatMap((topic) =>
      Array.from({ length: this.partitions(topic) }, (_, partition) => {
        const entry = this.offsets.get(`${groupId}|${topic}/${partition}`);
        return { topic, partition, offset: entry?.offset ?? -1, metadata: entry?.metadata ?? null };
      }),
    );
  }

  commitOffsets(content: TransactionContent['offsets']): void {
    for (const p of content.partitions) this.offsets.set(`${content.groupId}|${p.topic}/${p.partition}`, { offset: p.offset, metadata: p.metadata });
  }

  recordCommit(content: TransactionContent): void {
    this.commits.push(content);
  }

  available(): boolean {
    return this.up;
  }

  checkAvailable(): void {
    if (!this.up) throw new BrokerUnavailableError();
  }

  takeCommitFault(): CommitFault | undefined {
    return this.faults.shift();
  }
}

/** One process' client of a FakeKafka cluster: what the stages are given. */
export class FakeKafkaClient implements KafkaClient {
  readonly members: FakeMember[] = [];

  constructor(readonly cluster: FakeKafka) {}

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.cluster.checkAvailable();
    for (const spec of topics) this.cluster.createTopic(spec.topic, spec.partitions);
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    this.cluster.checkAvailable();
    // kafkajs joins the group (and announces the assignment) before it returns the consumer.
    const member = this.cluster.group(options.groupId).join(options);
    this.members.push(member);
    return member;
  }

  async transactionalProducer(transactionalId: string): Promise<TransactionalProducer> {
    const producer = this.cluster.coordinator.producer(transactionalId);
    return {
      commit: async (content) => {
        await producer.commit(content);
        this.cluster.recordCommit(content);
      },
      close: () => producer.close(),
    };
  }

  async partitionEnds(topics: readonly string[]): Promise<PartitionEnds[]> {
    this.cluster.checkAvailable();
    return topics.flatMap((topic) => Array.from({ length: this.cluster.partitions(topic) }, (_, partition) => ({ topic, partition, low: 0, high: this.cluster.log(topic, partition).high })));
  }

  async committedOffsets(groupId: string, topics: readonly string[]): Promise<CommittedOffset[]> {
    this.cluster.checkAvailable();
    return this.cluster.committedOffsets(groupId, topics);
  }

  async partitionCount(topic: string): Promise<number> {
    this.cluster.checkAvailable();
    return this.cluster.partitions(topic);
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }
}
