import type { Admin, Kafka, Message } from 'kafkajs';
import { sleep } from '../kafka-io.ts';
import { encodeRecord, type ProducedRecord } from './dataset.ts';

export { sleep };

export async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  const created = await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
  if (!created) throw new Error(`topic ${topic} already exists: each scenario needs a fresh topic`);
}

export interface ProductionReport {
  records: number;
  durationMs: number;
  /** Longest time between two consecutive sends (a partition must never look idle while it has data). */
  maxSendGapMs: number;
  /** Records per second actually achieved. */
  rate: number;
}

/**
 * Produces a dataset's sequence at a steady, bounded rate while the pipeline runs: one send at a
 * time (so no partition can be reordered), explicit partitions, key = record id, idempotent
 * producer. Each send carries the next slice of the sequence, i.e. records of every active
 * partition, so every partition that still has data gets some every tick.
 */
export class Production {
  readonly done: Promise<ProductionReport>;
  /** Records acknowledged by the broker so far. */
  produced = 0;
  finished = false;
  private stopped = false;
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  /** offset of each sequence index on its partition, as the broker assigned it. */
  readonly offsets: Int32Array;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly sequence: readonly ProducedRecord[],
    private readonly ratePerSec: number,
    private readonly tickMs = 50,
  ) {
    this.offsets = new Int32Array(sequence.length).fill(-1);
    this.done = this.run();
    this.done.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  }

  /** Resolves once `fraction` (0..1) of the sequence is acknowledged; rejects if production fails. */
  async waitFor(fraction: number): Promise<void> {
    const count = Math.min(this.sequence.length, Math.ceil(fraction * this.sequence.length));
    if (this.produced >= count) return;
    await Promise.race([new Promise<void>((resolve) => this.waiters.push({ count, resolve })), this.done.then(() => {})]);
  }

  stop(): void {
    this.stopped = true;
  }

  private async run(): Promise<ProductionReport> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const started = Date.now();
    let lastSend = started;
    let maxGap = 0;
    const maxBatch = Math.max(100, Math.ceil(this.ratePerSec / 4));
    try {
      while (this.produced < this.sequence.length && !this.stopped) {
        const due = Math.min(this.sequence.length, Math.floor((this.ratePerSec * (Date.now() - started)) / 1000) + 1);
        const end = Math.min(due, this.produced + maxBatch);
        if (end <= this.produced) {
          await sleep(this.tickMs);
          continue;
        }
        const slice = this.sequence.slice(this.produced, end);
        const messages: (Message & { partition: number })[] = slice.map((r) => ({ partition: r.partition, key: r.record.id, value: encodeRecord(r.record) }));
        const metadata = await producer.send({ topic: this.topic, acks: -1, messages });
        // Messages of a partition in one send get consecutive offsets from the partition's base offset.
        const base = new Map(metadata.map((m) => [m.partition, Number(m.baseOffset)]));
        const next = new Map<number, number>();
        slice.forEach((r, i) => {
          const b = base.get(r.partition);
          if (b === undefined || Number.isNaN(b)) throw new Error(`no base offset for partition ${r.partition} in ${JSON.stringify(metadata)}`);
          const k = next.get(r.partition) ?? 0;
          next.set(r.partition, k + 1);
          this.offsets[this.produced + i] = b + k;
        });
        this.produced = end;
        const now = Date.now();
        maxGap = Math.max(maxGap, now - lastSend);
        lastSend = now;
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          if (this.produced >= this.waiters[i]!.count) this.waiters.splice(i, 1)[0]!.resolve();
        }
      }
    } finally {
      this.finished = true;
      for (const w of this.waiters.splice(0)) w.resolve();
      await producer.disconnect().catch(() => {});
    }
    const durationMs = Date.now() - started;
    return { records: this.produced, durationMs, maxSendGapMs: maxGap, rate: Math.round((this.produced / durationMs) * 1000) };
  }
}

export interface DeadLetter {
  key: string;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Where the dead letter itself sits on the DLQ topic. */
  dlqPartition: number;
  dlqOffset: string;
}

/**
 * Reads a DLQ topic from the beginning, read-committed (only committed transactions), until at
 * least `expected` messages arrived and nothing more came for `quietMs`, or `timeoutMs` passed.
 */
export async function readDeadLetters(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  expected: number,
  { quietMs = 2_000, timeoutMs = 30_000 } = {},
): Promise<DeadLetter[]> {
  const deadline = Date.now() + timeoutMs;
  while (!(await admin.listTopics()).includes(topic)) {
    if (Date.now() > deadline) throw new Error(`DLQ topic ${topic} does not exist after ${timeoutMs / 1000} s (expected ${expected} late records there)`);
    await sleep(500);
  }
  const consumer = kafka.consumer({ groupId: `eo-dlq-reader-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, readUncommitted: false });
  const seen: DeadLetter[] = [];
  let lastArrival = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) {
          if (v !== undefined) headers[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
        }
        seen.push({ key: message.key?.toString() ?? '', value: message.value, headers, dlqPartition: partition, dlqOffset: message.offset });
        lastArrival = Date.now();
      },
    });
    for (;;) {
      const now = Date.now();
      if (seen.length >= expected && now - lastArrival >= quietMs) break;
      if (now > deadline) break;
      await sleep(200);
    }
    return seen;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

export interface GroupState {
  state: string;
  members: number;
}

export async function describeGroup(admin: Admin, groupId: string): Promise<GroupState> {
  const { groups } = await admin.describeGroups([groupId]);
  const g = groups[0];
  return { state: g?.state ?? 'Unknown', members: g?.members.length ?? 0 };
}

/** Committed offsets of a group on a topic, partition → offset (-1: none). */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, number>> {
  const result = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(result.flatMap((t) => t.partitions.map((p) => [p.partition, Number(p.offset)] as const)));
}
