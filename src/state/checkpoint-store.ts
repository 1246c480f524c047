/**
 * Where stage 2 keeps one checkpoint per owned partition. A checkpoint is one opaque blob
 * (state, input offset and outbox together), written in one atomic operation.
 *
 * Ownership is fenced by an epoch: `claim` bumps the partition's epoch, and `save` succeeds only
 * while the caller's epoch is still current, so an instance that was paused and lost the
 * partition cannot overwrite its new owner's checkpoint.
 */
export interface CheckpointStore {
  claim(partition: number): Promise<{ epoch: number; checkpoint: Buffer | undefined }>;
  save(partition: number, epoch: number, checkpoint: Buffer): Promise<'ok' | 'fenced'>;
  close(): Promise<void>;
}

/** The embedded default: checkpoints live as long as the process (no recovery across restarts). */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly epochs = new Map<number, number>();
  private readonly checkpoints = new Map<number, Buffer>();

  async claim(partition: number): Promise<{ epoch: number; checkpoint: Buffer | undefined }> {
    const epoch = (this.epochs.get(partition) ?? 0) + 1;
    this.epochs.set(partition, epoch);
    return { epoch, checkpoint: this.checkpoints.get(partition) };
  }

  async save(partition: number, epoch: number, checkpoint: Buffer): Promise<'ok' | 'fenced'> {
    if (this.epochs.get(partition) !== epoch) return 'fenced';
    this.checkpoints.set(partition, checkpoint);
    return 'ok';
  }

  async close(): Promise<void> {}
}
