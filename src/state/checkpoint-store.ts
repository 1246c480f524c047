/**
 * Where stage 2 keeps one checkpoint per owned partition, incrementally (as Flink's incremental
 * checkpoints and Kafka Streams' changelogs do): a small `head` rewritten every time (offsets,
 * watermarks, whatever changes as a whole) and keyed `entries` (one per series, retained total or
 * unacknowledged write) of which a checkpoint writes only those that changed since the last one.
 * Head, new entries and removed entries of one checkpoint are applied in one atomic operation, so
 * a checkpoint is always whole: never a head with half of its entries.
 *
 * Ownership is fenced by an epoch: `claim` bumps the partition's epoch, and `save` succeeds only
 * while the caller's epoch is still current, so an instance that was paused and lost the
 * partition cannot overwrite its new owner's checkpoint.
 */
export interface CheckpointStore {
  claim(partition: number): Promise<{ epoch: number; checkpoint: StoredCheckpoint | undefined }>;
  save(partition: number, epoch: number, delta: CheckpointDelta): Promise<'ok' | 'fenced'>;
  close(): Promise<void>;
}

/** What a claim finds: an incremental checkpoint, or one blob written by the previous format. */
export type StoredCheckpoint =
  | { readonly format: 'incremental'; readonly head: Buffer; readonly entries: ReadonlyMap<string, Buffer> }
  | { readonly format: 'blob'; readonly blob: Buffer };

/** One checkpoint's writes. */
export interface CheckpointDelta {
  readonly head: Buffer;
  /** Entries new or changed since the last checkpoint. */
  readonly put: ReadonlyMap<string, Buffer>;
  /** Entries gone since the last checkpoint (absent ones are ignored). */
  readonly remove: readonly string[];
  /**
   * `put` holds every entry: whatever else the store holds for the partition goes, the previous
   * format's blob included (the first checkpoint after restoring one).
   */
  readonly replace: boolean;
}

/** The embedded default: checkpoints live as long as the process (no recovery across restarts). */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly epochs = new Map<number, number>();
  private readonly checkpoints = new Map<number, { head: Buffer; entries: Map<string, Buffer> }>();

  async claim(partition: number): Promise<{ epoch: number; checkpoint: StoredCheckpoint | undefined }> {
    const epoch = (this.epochs.get(partition) ?? 0) + 1;
    this.epochs.set(partition, epoch);
    const stored = this.checkpoints.get(partition);
    // A copy: the owner's later saves must not change what it restored from.
    return { epoch, checkpoint: stored && { format: 'incremental', head: stored.head, entries: new Map(stored.entries) } };
  }

  async save(partition: number, epoch: number, delta: CheckpointDelta): Promise<'ok' | 'fenced'> {
    if (this.epochs.get(partition) !== epoch) return 'fenced';
    const entries = (!delta.replace && this.checkpoints.get(partition)?.entries) || new Map<string, Buffer>();
    for (const field of delta.remove) entries.delete(field);
    for (const [field, value] of delta.put) entries.set(field, ownBytes(value));
    this.checkpoints.set(partition, { head: ownBytes(delta.head), entries });
    return 'ok';
  }

  async close(): Promise<void> {}
}

/**
 * `bytes` in memory of its own. Packed entries are views of a packer's shared buffer (msgpackr's
 * grows to ~0.75 MiB, state-pack's chunks are 64 KiB), and one kept view keeps all of it alive:
 * in the gateway bench the kept entries (68 B each, most of them) held 133 such buffers, 22.7 of
 * the 46 MiB of live Buffer memory at the peak (a heap snapshot), and every Buffer a major GC
 * finds alive raises the external-memory mark of the next one (issue 12's peak RSS). Not pooled
 * either (Buffer.from's 8 KiB slabs): a long-kept entry would keep its slab the same way.
 */
function ownBytes(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength);
  bytes.copy(copy);
  return copy;
}
