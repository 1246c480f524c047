import type { Logger } from 'pino';
import type { Consumer, KafkaClient, SourceBatch, TopicPartition } from '../sources/kafka/client.ts';
import { GroupMember } from './group-member.ts';
import type { ProgressWatch } from './progress-watch.ts';
import type { Cancel, Scheduler } from './scheduler.ts';

/**
 * What a stage runs per owned partition (Kafka Streams' StreamTask): it takes the partition's
 * batches, does the stage's periodic work when the stage ticks, and hands the partition back.
 */
export interface PartitionTask {
  readonly partition: TopicPartition;
  /** Takes one fetched batch of its partition (the host awaits it: the consumer waits meanwhile). */
  receive(batch: SourceBatch): Promise<void>;
  /** The last work before the stage stops, after the consumer stopped: stage 1 commits, stage 2 checkpoints. */
  finish(): Promise<void>;
  /**
   * Called before the consumer stops. A task whose start-up retries hold the consumer's batch in
   * flight (stage 2 waiting for its state backend) gives up starting, or the consumer could not stop.
   */
  abandonStart?(): void;
  /** Stops the task; what it did not commit is read again by the partition's next owner. */
  close(): Promise<void>;
}

export interface PartitionHostOptions<T extends PartitionTask> {
  /** The stage's name in progress reports and logs ('1', '2'). */
  readonly stage: '1' | '2';
  readonly kafka: KafkaClient;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs?: number;
  readonly clock: Scheduler;
  readonly log: Logger;
  readonly progress: ProgressWatch;
  /** How often the stage's periodic work runs (wall clock). */
  readonly tickIntervalMs: number;
  /** A new task for a partition this member now owns. */
  readonly createTask: (partition: TopicPartition) => T;
  /** The stage's periodic work; runs once every assignment received so far is taken over. */
  readonly tick: () => Promise<void>;
  /** The consumer crashed and is being re-created. */
  readonly onRestart: () => void;
}

/**
 * The shell both stages share (Kafka Streams' StreamThread with its TaskManager): a consumer-group
 * member whose assignments close and re-create the stage's per-partition tasks, batches routed to
 * their partition's task, a wall-clock tick, a task replaced by its successor, and the stop order
 * (consumer first, then each task's last work, then close).
 *
 * Every assignment re-creates every task, retained ones too: kafkajs re-reads committed positions
 * after a rebalance, and the committed offset (stage 1) or the checkpoint (stage 2) is the truth.
 */
export class PartitionHost<T extends PartitionTask> {
  private readonly member: GroupMember;
  private readonly byKey = new Map<string, T>();
  private cancelTick: Cancel | undefined;

  constructor(private readonly options: PartitionHostOptions<T>) {
    this.member = new GroupMember(options.kafka, {
      groupId: options.groupId,
      topics: options.topics,
      fromBeginning: options.fromBeginning,
      ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
      log: options.log,
      onAssigned: (partitions) => this.onAssigned(partitions),
      onBatch: (batch) => this.onBatch(batch),
      onRestart: options.onRestart,
    });
  }

  /** True once the first assignment has been taken over. */
  get assigned(): boolean {
    return this.member.assigned;
  }

  /** The running consumer (pause, resume, seek); valid once an assignment is being handled. */
  get consumer(): Consumer {
    return this.member.handle;
  }

  /** The current tasks, live: a task replaced meanwhile is not among them. */
  tasks(): IterableIterator<T> {
    return this.byKey.values();
  }

  get taskCount(): number {
    return this.byKey.size;
  }

  /** True while `task` serves its partition (not unassigned, not replaced). */
  isCurrent(task: T): boolean {
    return this.byKey.get(keyOf(task.partition)) === task;
  }

  /** Puts `successor` in the place of `task`, unless that task is no longer current; returns whether it did. */
  replace(task: T, successor: () => T): boolean {
    if (!this.isCurrent(task)) return false;
    this.byKey.set(keyOf(task.partition), successor());
    return true;
  }

  /** Joins the group again as a new member; the assignment that follows re-creates every task. */
  rejoin(reason: string): void {
    this.member.rejoin(reason);
  }

  async start(): Promise<void> {
    await this.member.start();
    this.cancelTick = this.options.clock.schedule(this.options.tickIntervalMs, () => void this.tick());
  }

  async stop(): Promise<void> {
    this.cancelTick?.();
    for (const task of this.byKey.values()) task.abandonStart?.();
    await this.member.stop();
    const tasks = [...this.byKey.values()];
    await Promise.all(tasks.map((task) => task.finish()));
    await Promise.all(tasks.map((task) => task.close()));
    this.byKey.clear();
  }

  private async onAssigned(partitions: readonly TopicPartition[]): Promise<void> {
    const previous = [...this.byKey.values()];
    await Promise.all(previous.map((task) => task.close()));
    this.byKey.clear();
    for (const partition of partitions) this.byKey.set(keyOf(partition), this.options.createTask(partition));
    this.options.progress.retain(this.options.stage, partitions);
    this.options.log.info({ partitions: partitions.map(keyOf) }, 'partitions assigned');
  }

  private async onBatch(batch: SourceBatch): Promise<void> {
    const task = this.byKey.get(keyOf(batch));
    if (!task) return; // not ours (any more); the consumer is rebalancing
    await task.receive(batch);
  }

  private async tick(): Promise<void> {
    await this.member.settled();
    await this.options.tick();
  }
}

export const keyOf = (p: TopicPartition): string => `${p.topic}/${p.partition}`;
