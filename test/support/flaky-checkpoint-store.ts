import { MemoryCheckpointStore, type CheckpointDelta, type CheckpointStore } from '../../src/state/checkpoint-store.ts';

/** The state backend (Redis) in memory, with an outage switch: while `down`, every call fails. */
export class FlakyCheckpointStore implements CheckpointStore {
  down = false;
  saves = 0;
  private readonly store = new MemoryCheckpointStore();

  claim(partition: number): ReturnType<CheckpointStore['claim']> {
    this.check();
    return this.store.claim(partition);
  }

  save(partition: number, epoch: number, delta: CheckpointDelta): ReturnType<CheckpointStore['save']> {
    this.check();
    this.saves++;
    return this.store.save(partition, epoch, delta);
  }

  async close(): Promise<void> {}

  private check(): void {
    if (this.down) throw new Error('fake state backend: connection refused');
  }
}
