import type { Logger } from 'pino';
import type { Consumer, KafkaClient, SourceBatch, TopicPartition } from '../sources/kafka/client.ts';

export interface GroupMemberOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs?: number;
  readonly log: Logger;
  /** Takes over the partitions of a new assignment; runs one rebalance at a time. */
  readonly onAssigned: (partitions: readonly TopicPartition[]) => Promise<void>;
  /** Processes a batch; called only after the assignment it belongs to has been taken over. */
  readonly onBatch: (batch: SourceBatch) => Promise<void>;
  /** The consumer crashed and is being re-created; a new assignment follows once it re-joined. */
  readonly onRestart?: () => void;
}

/**
 * A consumer-group member whose partitions are served by per-partition tasks (both stages use
 * one). kafkajs joins the group inside `run`, before it hands back the consumer, so assignments
 * are queued until the handle exists, and handled strictly one after another; batches wait for
 * the assignment they belong to. When the consumer crashes the client re-creates it; its re-join
 * is one more assignment, so the tasks re-take their partitions as after any rebalance.
 */
export class GroupMember {
  private consumer: Consumer | undefined;
  private assignment: Promise<void>;
  private started!: () => void;
  assigned = false;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly options: GroupMemberOptions,
  ) {
    this.assignment = new Promise((resolve) => (this.started = resolve));
  }

  /** The running consumer (pause, resume, seek); only valid once an assignment is being handled. */
  get handle(): Consumer {
    return this.consumer!;
  }

  async start(): Promise<void> {
    const { groupId, topics, fromBeginning, sessionTimeoutMs, log } = this.options;
    this.consumer = await this.kafka.consume({
      groupId,
      topics,
      fromBeginning,
      ...(sessionTimeoutMs ? { sessionTimeoutMs } : {}),
      onAssigned: (partitions) => {
        this.assignment = this.assignment
          .then(() => this.options.onAssigned(partitions))
          .then(() => {
            this.assigned = true;
          })
          .catch((error: unknown) => log.error({ err: error }, 'could not take over assigned partitions'));
      },
      onBatch: async (batch) => {
        await this.assignment;
        await this.options.onBatch(batch);
      },
      onRestart: () => this.options.onRestart?.(),
    });
    this.started();
  }

  /** Resolves once every assignment received so far has been taken over. */
  settled(): Promise<void> {
    return this.assignment;
  }

  /** Joins the group again as a new member; the assignment that follows re-creates every task. */
  rejoin(reason: string): void {
    this.consumer?.rejoin(reason);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
