import { Redis } from 'ioredis';
import type { CheckpointDelta, CheckpointStore, StoredCheckpoint } from './checkpoint-store.ts';

/**
 * Compare-and-set on the epoch, then the writes: one script, so the check and the writes are
 * atomic, and a checkpoint is applied whole or not at all (Redis refuses a script for lack of
 * memory at its first write, before anything changed).
 *
 * KEYS: epoch, previous format's blob, head, entries (a hash).
 * ARGV: epoch, head, replace ('1' or '0'), number of removed fields, the removed fields, then
 * field/value pairs to set. Fields go to HDEL / HSET in chunks, within Lua's stack limit.
 */
const SAVE_IF_OWNER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then redis.call('DEL', KEYS[2], KEYS[4]) end
local last = 4 + tonumber(ARGV[4])
local i = 5
while i <= last do
  local j = math.min(i + 999, last)
  redis.call('HDEL', KEYS[4], unpack(ARGV, i, j))
  i = j + 1
end
while i <= #ARGV do
  local j = math.min(i + 1999, #ARGV)
  redis.call('HSET', KEYS[4], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('SET', KEYS[3], ARGV[2])
return 1`;

/**
 * Checkpoints in Redis: per partition a head (a string) and its entries (a hash, one field per
 * series, retained total or unacknowledged write), so a checkpoint sends only what changed. All
 * keys of a partition share a hash tag (`{pipeline:partition}`), so the fenced write is one
 * atomic script also on Redis Cluster.
 *
 * A partition checkpointed by the previous format (one blob under `…:checkpoint`) is handed back
 * as that blob; the first checkpoint after it replaces the blob with head and entries.
 *
 * Commands fail fast while Redis is down (no offline queue, one try), so the runtime sees the
 * outage at once and pauses the affected partitions instead of piling up work behind a retry loop.
 */
export class RedisCheckpointStore implements CheckpointStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly pipeline: string,
  ) {
    this.redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 500,
      // disconnect() keeps a timer for this long when the socket is already dead (Redis down),
      // and that timer alone would hold the process after a shutdown (ioredis' default: 2 s).
      disconnectTimeout: 100,
    });
    // Connection errors surface as failed commands; the event itself needs no handling.
    this.redis.on('error', () => {});
  }

  private keys(partition: number): { epoch: string; blob: string; head: string; entries: string } {
    const prefix = `sluice:{${this.pipeline}:${partition}}`;
    return { epoch: `${prefix}:epoch`, blob: `${prefix}:checkpoint`, head: `${prefix}:head`, entries: `${prefix}:entries` };
  }

  async claim(partition: number): Promise<{ epoch: number; checkpoint: StoredCheckpoint | undefined }> {
    const keys = this.keys(partition);
    const result = await this.redis.multi().incr(keys.epoch).getBuffer(keys.head).hgetallBuffer(keys.entries).getBuffer(keys.blob).exec();
    if (!result) throw new Error('Redis transaction was discarded');
    for (const [error] of result) if (error) throw error;
    const [epoch, head, entries, blob] = result.map(([, value]) => value) as [number, Buffer | null, Record<string, Buffer>, Buffer | null];
    if (head) return { epoch, checkpoint: { format: 'incremental', head, entries: new Map(Object.entries(entries)) } };
    return { epoch, checkpoint: blob ? { format: 'blob', blob } : undefined };
  }

  async save(partition: number, epoch: number, delta: CheckpointDelta): Promise<'ok' | 'fenced'> {
    const keys = this.keys(partition);
    const args: (string | Buffer)[] = [keys.epoch, keys.blob, keys.head, keys.entries, String(epoch), delta.head, delta.replace ? '1' : '0', String(delta.remove.length)];
    for (const field of delta.remove) args.push(field);
    for (const [field, value] of delta.put) args.push(field, value);
    // One array (ioredis flattens it): a spread of a whole partition's entries could overflow the call stack.
    const written = await this.redis.eval(SAVE_IF_OWNER, 4, args);
    return written === 1 ? 'ok' : 'fenced';
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
