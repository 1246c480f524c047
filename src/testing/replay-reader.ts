import type { Logger } from 'pino';
import { GroupMember } from '../runtime/group-member.ts';
import type { KafkaClient, OffsetsByTime, SourceBatch, SourceRecord, TopicPartition } from '../sources/kafka/client.ts';

/** The offsets `[start, end)` of one partition that a replay reads. */
export interface ReplayRange extends TopicPartition {
  readonly start: number;
  readonly end: number;
}

/**
 * The offset range of every partition of `topics` whose records were written from `fromMs` up
 * to `toMs` (exclusive), found by timestamp through the admin API; without `toMs`, up to the
 * partition's end now, so a replay of a live topic ends.
 */
export async function planReplay(kafka: KafkaClient & OffsetsByTime, topics: readonly string[], fromMs: number, toMs: number | undefined): Promise<ReplayRange[]> {
  const ranges: ReplayRange[] = [];
  const highs = toMs === undefined ? await kafka.partitionEnds(topics) : [];
  for (const topic of topics) {
    const starts = await kafka.offsetsForTime(topic, fromMs);
    const ends = toMs === undefined ? highs.filter((e) => e.topic === topic).map((e) => ({ partition: e.partition, offset: e.high })) : await kafka.offsetsForTime(topic, toMs);
    for (const { partition, offset: start } of starts) {
      const end = ends.find((e) => e.partition === partition)?.offset ?? start;
      ranges.push({ topic, partition, start, end: Math.max(start, end) });
    }
  }
  return ranges;
}

export interface RangeReaderOptions {
  readonly kafka: KafkaClient;
  readonly ranges: readonly ReplayRange[];
  /** A group of the replay's own: nothing is ever committed to it, and it is not the pipeline's. */
  readonly groupId: string;
  readonly log: Logger;
  /** One record of a range, in offset order per partition. */
  readonly onRecord: (record: SourceRecord) => void;
  /** After each batch of a partition: `read` records of `total` are done. */
  readonly onBatch: (partition: TopicPartition, read: number, total: number) => void;
}

/**
 * Reads offset ranges through a consumer group of its own, seeking each partition to where its
 * range (or what is left of it) starts whenever partitions are assigned; commits nothing.
 * `run` resolves once every range has been read.
 */
export class RangeReader {
  private readonly positions = new Map<string, { range: ReplayRange; next: number }>();
  private readonly total: number;
  private read = 0;
  private lastBatchAt = Date.now();
  private done!: () => void;
  private readonly finished = new Promise<void>((resolve) => (this.done = resolve));

  constructor(private readonly options: RangeReaderOptions) {
    for (const range of options.ranges) if (range.end > range.start) this.positions.set(keyOf(range), { range, next: range.start });
    this.total = [...this.positions.values()].reduce((sum, { range }) => sum + range.end - range.start, 0);
  }

  get totalRecords(): number {
    return this.total;
  }

  async run(): Promise<void> {
    if (this.positions.size === 0) return;
    const topics = [...new Set([...this.positions.values()].map((p) => p.range.topic))];
    const member: GroupMember = new GroupMember(this.options.kafka, {
      groupId: this.options.groupId,
      topics,
      fromBeginning: true,
      log: this.options.log,
      onAssigned: async (partitions) => {
        for (const partition of partitions) {
          const position = this.positions.get(keyOf(partition));
          if (position && position.next < position.range.end) member.handle.seek({ ...partition, offset: position.next });
        }
      },
      onBatch: async (batch) => this.onBatch(batch),
    });
    await member.start();
    this.lastBatchAt = Date.now(); // joining the group took its time; the wait starts now
    // A range whose last offsets are transaction markers or aborted records never sees them
    // fetched: once nothing arrives for a while, what is left is taken as read.
    const idle = setInterval(() => {
      if (Date.now() - this.lastBatchAt < IDLE_END_MS) return;
      const left = [...this.positions.keys()];
      this.options.log.warn({ partitions: left }, 'no records for a while; taking the rest of these ranges as read');
      for (const position of this.positions.values()) this.advance(position, position.range.end);
      this.positions.clear();
      this.done();
    }, 1_000);
    try {
      await this.finished;
    } finally {
      clearInterval(idle);
      await member.stop();
    }
  }

  private advance(position: { next: number }, to: number): void {
    this.read += to - position.next;
    position.next = to;
  }

  private onBatch(batch: SourceBatch): void {
    const position = this.positions.get(keyOf(batch));
    if (!position || batch.superseded()) return;
    this.lastBatchAt = Date.now();
    for (const record of batch.records) {
      if (record.offset < position.next) continue; // fetched before the seek took effect
      if (record.offset >= position.range.end) {
        this.advance(position, position.range.end);
        break;
      }
      this.options.onRecord(record);
      this.advance(position, record.offset + 1); // offsets skipped (transaction markers, aborted records) count as read
    }
    this.options.onBatch(batch, this.read, this.total);
    if (position.next >= position.range.end) this.positions.delete(keyOf(batch));
    if (this.positions.size === 0) this.done();
  }
}

/** How long the reader waits for a batch before it takes the ranges left as read (they end in offsets no fetch returns). */
const IDLE_END_MS = 15_000;

const keyOf = (p: TopicPartition) => `${p.topic}/${p.partition}`;
