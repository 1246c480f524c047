import type { Batch, Consumer as KafkajsConsumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { backoffDelay, sleepUnlessAborted, type BackoffPolicy } from '../../core/backoff.ts';
import type { ConsumeOptions, Consumer, PartitionOffset, SourceRecord, TopicPartition } from './client.ts';
import { groupByTopic } from './group-by-topic.ts';
import { isTransient } from './kafkajs-errors.ts';
import { FetchedRecord } from './kafkajs-fast-records.ts';

/** Re-creating a crashed consumer: the first try within 0.5 s, the ceiling doubling up to 10 s (full jitter). */
export const CONSUMER_RESTART_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 10_000 };

/**
 * How often a member heartbeats, and so how soon a busy member learns that its group rebalances:
 * the coordinator answers a heartbeat with REBALANCE_IN_PROGRESS, and until then the member keeps
 * its partitions and every other member waits for it. Kafka's guidance is at most a third of the
 * session timeout, and lower for faster rebalances. Measured (a member joining a group whose one
 * member is busy, 6 partitions, the test stack's broker): the newcomer owned partitions 3.7-3.9 s
 * after it started with a heartbeat every 5 s (the session timeout / 6, before), 0.7-1.1 s with 1 s
 * (test/bench/rebalance-bench.ts).
 */
export function heartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(sessionTimeoutMs / 3)));
}

/** One kafkajs consumer instance; a crash marks it, whether it happens while starting or later. */
interface Incarnation {
  readonly consumer: KafkajsConsumer;
  crashed?: { error: unknown };
}

/**
 * A kafkajs group consumer that never stays down. kafkajs restarts a crashed consumer only after
 * a retriable error; after a non-retriable one ("Failed to find group coordinator" while a broker
 * restarts, exhausted retries) it emits CRASH with `restart: false` and stays disconnected for
 * good. Here kafkajs never restarts by itself: on every CRASH this class builds a new consumer
 * (a fresh group member: it re-joins, and its GROUP_JOIN hands every partition over again, so
 * the owners re-take them from what is committed), retrying with backoff for as long as it takes.
 */
export class RestartingConsumer implements Consumer {
  private current: Incarnation | undefined;
  private restarting: Promise<void> | undefined;
  /** Restart attempts since the consumer last joined its group; sets the backoff ceiling. */
  private failures = 0;
  private readonly stopped = new AbortController();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ConsumeOptions,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Starts the first consumer. A failure that may pass (isTransient: the broker went away since the
   * pipeline found its topics ready) is a crash like any later one, re-created with backoff while
   * this returns; any other connect / subscribe error (a refusal) reaches the caller: start-up fails fast.
   */
  async start(): Promise<void> {
    const first = this.incarnate();
    try {
      await this.run(first);
    } catch (error) {
      if (!isTransient(error)) throw error;
      first.crashed ??= { error };
    }
    if (first.crashed) this.onCrash(first, first.crashed.error);
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.act('pause', (c) => c.pause(byTopic(partitions)));
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.act('resume', (c) => c.resume(byTopic(partitions)));
  }

  seek(p: PartitionOffset): void {
    this.act('seek', (c) => c.seek({ topic: p.topic, partition: p.partition, offset: String(p.offset) }));
  }

  rejoin(reason: string): void {
    const current = this.current;
    if (!current || current.crashed || this.restarting || this.stopped.signal.aborted) return;
    this.log.warn({ groupId: this.options.groupId, reason }, 'leaving the consumer group to join it again');
    this.onCrash(current, new Error(reason));
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await this.restarting;
    const current = this.current;
    this.current = undefined;
    await current?.consumer.disconnect();
  }

  /** Acts on the running consumer; while it is being re-created there is nothing to act on. */
  private act(what: string, action: (consumer: KafkajsConsumer) => void): void {
    const current = this.current;
    if (!current || current.crashed || this.restarting) return;
    try {
      action(current.consumer);
    } catch (error) {
      // kafkajs tears its group down before it reports the crash; the re-join redoes this.
      this.log.warn({ err: error, groupId: this.options.groupId }, `consumer ${what} skipped: the consumer is not running`);
    }
  }

  private incarnate(): Incarnation {
    const { options } = this;
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      // Stage inputs may be written transactionally; never read aborted or open transactions.
      readUncommitted: false,
      allowAutoTopicCreation: false,
      // A fetch on an idle topic waits at most this long: shutdown (and a seek) never waits out kafkajs's 5 s default.
      maxWaitTimeInMs: 1_000,
      // Every crash is ours to handle (onCrash): one policy, one counter, whatever kafkajs thinks of the error.
      retry: { retries: 5, restartOnFailure: async () => false },
      ...(options.sessionTimeoutMs ? { sessionTimeout: options.sessionTimeoutMs, heartbeatInterval: heartbeatIntervalMs(options.sessionTimeoutMs) } : {}),
    });
    const incarnation: Incarnation = { consumer };
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (incarnation !== this.current) return;
      this.failures = 0;
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      options.onAssigned(Object.entries(assignment).flatMap(([topic, ids]) => ids.map((partition) => ({ topic, partition }))));
    });
    consumer.on(consumer.events.CRASH, (event) => this.onCrash(incarnation, event.payload.error));
    this.current = incarnation;
    return incarnation;
  }

  private async run(incarnation: Incarnation): Promise<void> {
    const { consumer } = incarnation;
    const { options } = this;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch, heartbeat, isStale }) => {
          // Fetched before a seek of its partition: the seek's own fetch brings the right records.
          // (kafkajs fetches again only once this batch is handled, so a seek requested while the
          // batch waits in the stage keeps it stale until then.)
          // Fetched by a consumer since replaced (a crash or re-join): the owners restarted from what
          // is committed, and this batch is not where their new consumer reads from.
          const superseded = () => isStale() || incarnation !== this.current;
          if (superseded()) return;
          const records = sourceRecordsOf(batch);
          await options.onBatch({ topic: batch.topic, partition: batch.partition, records, highWatermark: Number(batch.highWatermark), superseded });
          await heartbeat();
        },
      });
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
  }

  private onCrash(incarnation: Incarnation, error: unknown): void {
    incarnation.crashed ??= { error };
    if (incarnation !== this.current || this.restarting || this.stopped.signal.aborted) return;
    this.restarting = this.restart(error).finally(() => {
      this.restarting = undefined;
    });
  }

  /** Builds new consumers until one runs, or the consumer is stopped. */
  private async restart(cause: unknown): Promise<void> {
    const signal = this.stopped.signal;
    // kafkajs disconnects a consumer before it reports the crash; this only makes sure.
    await this.current?.consumer.disconnect().catch(() => {});
    for (let error = cause; !signal.aborted; ) {
      this.failures++;
      const delayMs = backoffDelay(CONSUMER_RESTART_BACKOFF, this.failures, undefined, this.random);
      this.options.onRestart?.(error, delayMs);
      this.log.warn({ err: error, groupId: this.options.groupId, attempt: this.failures, delay_ms: delayMs }, 'kafka consumer crashed; re-creating it');
      await sleepUnlessAborted(delayMs, signal);
      if (signal.aborted) return;
      const next = this.incarnate();
      try {
        await this.run(next);
      } catch (startError) {
        next.crashed ??= { error: startError };
      }
      if (!next.crashed) {
        this.log.info({ groupId: this.options.groupId, attempt: this.failures }, 'kafka consumer re-created; re-joining the group');
        return;
      }
      error = next.crashed.error; // run() or kafkajs' own crash handling disconnected it
    }
  }
}

function byTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  return groupByTopic(partitions).map(([topic, list]) => ({ topic, partitions: list.map((p) => p.partition) }));
}

/**
 * A fetched batch's records as SourceRecords. Records from Sluice's record decoder
 * (kafkajs-fast-records.ts) with exact offsets, as all are below 2^53, are handed on themselves,
 * their topic and partition set: no copy per record (82 B each, a tenth of what stage 1 allocated
 * per gateway record, issue 12). Any other batch (kafkajs's own decoder, offsets past 2^53) is copied.
 */
export function sourceRecordsOf(batch: Batch): readonly SourceRecord[] {
  const messages = batch.messages as unknown[];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (!(message instanceof FetchedRecord) || typeof message.offset !== 'number') return copiedRecords(batch);
    message.topic = batch.topic;
    message.partition = batch.partition;
  }
  return messages as SourceRecord[];
}

function copiedRecords(batch: Batch): SourceRecord[] {
  const records: SourceRecord[] = new Array(batch.messages.length);
  for (let i = 0; i < batch.messages.length; i++) {
    const message = batch.messages[i]!;
    records[i] = {
      topic: batch.topic,
      partition: batch.partition,
      offset: Number(message.offset),
      key: message.key,
      value: message.value,
      headers: message.headers ?? {},
    };
  }
  return records;
}
