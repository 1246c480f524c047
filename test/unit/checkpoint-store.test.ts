import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore, type CheckpointDelta, type StoredCheckpoint } from '../../src/state/checkpoint-store.ts';

/** The in-memory checkpoint store applies incremental checkpoints as the Redis one does (test/integration/checkpoint-store-redis.test.ts). */
const delta = (head: string, put: Record<string, string>, remove: string[] = [], replace = false): CheckpointDelta => ({
  head: Buffer.from(head),
  put: new Map(Object.entries(put).map(([field, value]) => [field, Buffer.from(value)])),
  remove,
  replace,
});

function readable(stored: StoredCheckpoint | undefined) {
  if (stored?.format !== 'incremental') return stored;
  return { head: stored.head.toString(), entries: Object.fromEntries([...stored.entries].map(([field, value]) => [field, value.toString()])) };
}

describe('memory checkpoint store', () => {
  it('applies each checkpoint’s entries and removals on top of the last, and replaces everything when told', async () => {
    const store = new MemoryCheckpointStore();
    const { epoch, checkpoint } = await store.claim(3);
    expect(checkpoint).toBeUndefined();
    expect(await store.save(3, epoch, delta('h1', { s1: 'a', s2: 'b', o1: 'w' }, [], true))).toBe('ok');
    expect(await store.save(3, epoch, delta('h2', { s2: 'B', s3: 'c' }, ['o1', 'never-written']))).toBe('ok');
    const second = await store.claim(3);
    expect(readable(second.checkpoint)).toEqual({ head: 'h2', entries: { s1: 'a', s2: 'B', s3: 'c' } });
    expect(await store.save(3, second.epoch, delta('h3', { s9: 'z' }, [], true))).toBe('ok');
    expect(readable((await store.claim(3)).checkpoint)).toEqual({ head: 'h3', entries: { s9: 'z' } });
  });

  it('refuses a checkpoint from an owner whose epoch is no longer current, and keeps what it restored from', async () => {
    const store = new MemoryCheckpointStore();
    const old = await store.claim(0);
    expect(await store.save(0, old.epoch, delta('h1', { s1: 'a' }, [], true))).toBe('ok');
    const current = await store.claim(0);
    expect(current.epoch).toBeGreaterThan(old.epoch);
    expect(await store.save(0, old.epoch, delta('stale', { s1: 'stale' }, [], true))).toBe('fenced');
    expect(await store.save(0, current.epoch, delta('h2', { s2: 'b' }))).toBe('ok');
    // The restored view is a copy: later saves do not change it.
    expect(readable(current.checkpoint)).toEqual({ head: 'h1', entries: { s1: 'a' } });
    expect(readable((await store.claim(0)).checkpoint)).toEqual({ head: 'h2', entries: { s1: 'a', s2: 'b' } });
  });

  it('keeps each entry and the head in memory of their own, not the packer buffer they are views of', async () => {
    const store = new MemoryCheckpointStore();
    const { epoch } = await store.claim(1);
    const packerBuffer = Buffer.alloc(64 * 1024);
    packerBuffer.write('head', 100);
    packerBuffer.write('entry', 200);
    const view = (at: number, length: number) => packerBuffer.subarray(at, at + length);
    expect(await store.save(1, epoch, { head: view(100, 4), put: new Map([['s1', view(200, 5)]]), remove: [], replace: true })).toBe('ok');
    packerBuffer.fill(0); // the packer's next values overwrite its buffer
    const stored = (await store.claim(1)).checkpoint;
    expect(readable(stored)).toEqual({ head: 'head', entries: { s1: 'entry' } });
    if (stored?.format !== 'incremental') throw new Error('expected an incremental checkpoint');
    for (const bytes of [stored.head, ...stored.entries.values()]) expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
  });
});
