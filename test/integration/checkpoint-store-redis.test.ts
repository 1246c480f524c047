import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CheckpointDelta, StoredCheckpoint } from '../../src/state/checkpoint-store.ts';
import { RedisCheckpointStore } from '../../src/state/redis-checkpoint-store.ts';
import { startRedis, type RedisHandle } from '../stack/redis.ts';

/**
 * The Redis checkpoint store against a real redis-server of its own: incremental checkpoints
 * (head and a hash of entries, many more than one script chunk), fencing, and a partition
 * checkpointed by the previous format (one blob) restoring and then replaced.
 */
const stack = inject('stack');
let redis: RedisHandle | undefined;
let client: Redis | undefined;
const stores: RedisCheckpointStore[] = [];

beforeAll(async () => {
  const base = join(stack.runDir, 'checkpoint-store-redis', String(Date.now()));
  redis = await startRedis({ dir: join(base, 'data'), logFile: join(base, 'redis.log') });
  client = new Redis(redis.url);
});

afterAll(async () => {
  for (const store of stores) await store.close();
  client?.disconnect();
  await redis?.stop();
});

/**
 * A store, once connected: it fails fast while not connected (no offline queue, as stage 2 wants),
 * so its first claim is retried as stage 2's restore retries it, a bounded number of times.
 */
async function open(pipeline: string, partition: number): Promise<{ store: RedisCheckpointStore; epoch: number; checkpoint: StoredCheckpoint | undefined }> {
  const store = new RedisCheckpointStore(redis!.url, pipeline);
  stores.push(store);
  for (let attempt = 0; ; attempt++) {
    try {
      return { store, ...(await store.claim(partition)) };
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Binary values (not UTF-8) must come back byte for byte. */
const value = (i: number, version = 0) => Buffer.from([0xff, 0xfe, i & 0xff, (i >> 8) & 0xff, version]);

function delta(head: string, put: Map<string, Buffer>, remove: string[] = [], replace = false): CheckpointDelta {
  return { head: Buffer.from(head), put, remove, replace };
}

function incremental(stored: StoredCheckpoint | undefined) {
  if (stored?.format !== 'incremental') throw new Error(`expected an incremental checkpoint, got ${stored?.format}`);
  return stored;
}

describe('Redis checkpoint store', () => {
  it('applies incremental checkpoints: head, thousands of entries set and removed in one fenced write', async () => {
    const { store, epoch, checkpoint } = await open('incremental', 0);
    expect(checkpoint).toBeUndefined();
    const all = new Map<string, Buffer>(Array.from({ length: 2_500 }, (_, i) => [`s${i.toString(36)}`, value(i)]));
    expect(await store.save(0, epoch, delta('head-1', all, [], true))).toBe('ok');

    // 1,200 removed (more than one HDEL chunk), 1,100 changed, 5 new.
    const removed = Array.from({ length: 1_200 }, (_, i) => `s${i.toString(36)}`);
    const put = new Map<string, Buffer>();
    for (let i = 1_200; i < 2_300; i++) put.set(`s${i.toString(36)}`, value(i, 1));
    for (let i = 0; i < 5; i++) put.set(`o${i}`, value(i, 2));
    expect(await store.save(0, epoch, delta('head-2', put, [...removed, 'never-written']))).toBe('ok');

    const restored = incremental((await store.claim(0)).checkpoint);
    expect(restored.head.toString()).toBe('head-2');
    const expected = new Map(all);
    for (const field of removed) expected.delete(field);
    for (const [field, v] of put) expected.set(field, v);
    expect(restored.entries.size).toBe(expected.size);
    for (const [field, v] of expected) expect(restored.entries.get(field)?.equals(v), field).toBe(true);
  });

  it('fences an owner whose epoch is no longer current: its checkpoint changes nothing', async () => {
    const { store, ...first } = await open('fenced', 1);
    expect(await store.save(1, first.epoch, delta('mine', new Map([['s1', value(1)]]), [], true))).toBe('ok');
    const second = await store.claim(1);
    expect(await store.save(1, first.epoch, delta('zombie', new Map([['s2', value(2)]]), ['s1'], true))).toBe('fenced');
    const now = incremental((await store.claim(1)).checkpoint);
    expect(now.head.toString()).toBe('mine');
    expect([...now.entries.keys()]).toEqual(['s1']);
    expect(second.epoch).toBeGreaterThan(first.epoch);
  });

  it('hands back a previous-format blob, and its first incremental checkpoint replaces it', async () => {
    // As the previous store wrote it: one key per partition holding the whole state.
    await client!.set('sluice:{legacy:2}:checkpoint', Buffer.from([1, 2, 3, 0xff]));
    const { store, epoch, checkpoint } = await open('legacy', 2);
    expect(checkpoint?.format).toBe('blob');
    expect(checkpoint?.format === 'blob' && [...checkpoint.blob]).toEqual([1, 2, 3, 0xff]);
    expect(await store.save(2, epoch, delta('migrated', new Map([['s0', value(0)]]), [], true))).toBe('ok');
    expect(await client!.exists('sluice:{legacy:2}:checkpoint')).toBe(0);
    const restored = incremental((await store.claim(2)).checkpoint);
    expect(restored.head.toString()).toBe('migrated');
    expect([...restored.entries.keys()]).toEqual(['s0']);
  });
});
