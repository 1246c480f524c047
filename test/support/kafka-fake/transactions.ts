import { FencedError, type TransactionContent, type TransactionalProducer } from '../../../src/sources/kafka/client.ts';
import type { PartitionLog, TransactionState } from './partition-log.ts';

/** What a producer needs from the cluster it writes to. */
export interface TransactionCluster {
  log(topic: string, partition: number): PartitionLog;
  partitionFor(topic: string, key: Buffer | string | null | undefined): number;
  commitOffsets(content: TransactionContent['offsets']): void;
  /** Throws while the broker is unavailable. */
  checkAvailable(): void;
  /** The fault the next commit meets, if one was injected. */
  takeCommitFault(): CommitFault | undefined;
}

/** A fault injected into the next commit. */
export interface CommitFault {
  /** Thrown to the caller. */
  readonly error?: unknown;
  /** The broker commits before the client sees `error` (an outcome the client cannot know). */
  readonly afterCommit?: boolean;
  /** The commit stops with its records written in an open transaction until this resolves. */
  readonly hold?: Promise<void>;
}

/**
 * The transaction coordinator's view of transactional ids: each new producer for an id bumps its
 * epoch, aborts the transaction the previous one left open, and fences it.
 */
export class TransactionCoordinator {
  private readonly epochs = new Map<string, number>();
  private readonly open = new Map<string, OpenTransaction>();
  /** Commits refused because a newer producer with the same id exists. */
  fencedCommits = 0;

  constructor(private readonly cluster: TransactionCluster) {}

  producer(transactionalId: string): TransactionalProducer {
    this.cluster.checkAvailable();
    const epoch = (this.epochs.get(transactionalId) ?? 0) + 1;
    this.epochs.set(transactionalId, epoch);
    this.open.get(transactionalId)?.end('aborted');
    this.open.delete(transactionalId);
    return new FakeProducer(transactionalId, epoch, this);
  }

  /** One commit of producer `epoch` of `transactionalId`, with what the broker would do at each step. */
  async commit(transactionalId: string, epoch: number, content: TransactionContent): Promise<void> {
    this.cluster.checkAvailable();
    if (this.epochs.get(transactionalId) !== epoch) throw this.fenced(transactionalId);
    const fault = this.cluster.takeCommitFault();
    const transaction = new OpenTransaction();
    this.open.set(transactionalId, transaction);
    for (const message of content.messages) {
      const partition = message.partition ?? this.cluster.partitionFor(message.topic, message.key);
      const log = this.cluster.log(message.topic, partition);
      log.append(toBuffer(message.key), toBuffer(message.value), message.headers ?? {}, transaction.state);
      transaction.logs.add(log);
    }
    // Held open: until released, or until a newer producer aborts it (the coordinator answers at once then).
    if (fault?.hold) await Promise.race([fault.hold, transaction.ended]);
    // A newer producer came meanwhile: it aborted this transaction.
    if (this.epochs.get(transactionalId) !== epoch) throw this.fenced(transactionalId);
    this.open.delete(transactionalId);
    if (fault?.error !== undefined && !fault.afterCommit) {
      transaction.end('aborted');
      throw fault.error;
    }
    transaction.end('committed');
    this.cluster.commitOffsets(content.offsets);
    if (fault?.error !== undefined) throw fault.error;
  }

  private fenced(transactionalId: string): FencedError {
    this.fencedCommits++;
    return new FencedError(transactionalId);
  }
}

class OpenTransaction {
  readonly state: TransactionState = { status: 'open' };
  readonly logs = new Set<PartitionLog>();
  private markEnded!: () => void;
  /** Resolves once the transaction is committed or aborted. */
  readonly ended = new Promise<void>((resolve) => (this.markEnded = resolve));

  end(status: 'committed' | 'aborted'): void {
    if (this.state.status !== 'open') return;
    this.state.status = status;
    for (const log of this.logs) log.appendMarker();
    this.markEnded();
  }
}

class FakeProducer implements TransactionalProducer {
  constructor(
    readonly transactionalId: string,
    private readonly epoch: number,
    private readonly coordinator: TransactionCoordinator,
  ) {}

  commit(content: TransactionContent): Promise<void> {
    return this.coordinator.commit(this.transactionalId, this.epoch, content);
  }

  async close(): Promise<void> {}
}

function toBuffer(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
}
