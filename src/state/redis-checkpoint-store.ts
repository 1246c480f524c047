import { Redis } from 'ioredis';
import type { CheckpointStore } from './checkpoint-store.ts';

// Compare-and-set on the epoch, then the write: one script, so the check and the write are atomic.
const SAVE_IF_OWNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2])
  return 1
end
return 0`;

/**
 * Checkpoints in Redis. Both keys of a partition share a hash tag (`{pipeline:partition}`), so
 * the fenced write is one atomic script also on Redis Cluster.
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

  private keys(partition: number): [string, string] {
    const tag = `{${this.pipeline}:${partition}}`;
    return [`sluice:${tag}:epoch`, `sluice:${tag}:checkpoint`];
  }

  async claim(partition: number): Promise<{ epoch: number; checkpoint: Buffer | undefined }> {
    const [epochKey, checkpointKey] = this.keys(partition);
    const result = await this.redis.multi().incr(epochKey).getBuffer(checkpointKey).exec();
    if (!result) throw new Error('Redis transaction was discarded');
    const [[incrError, epoch], [getError, checkpoint]] = result as [[Error | null, number], [Error | null, Buffer | null]];
    if (incrError || getError) throw incrError ?? getError;
    return { epoch, checkpoint: checkpoint ?? undefined };
  }

  async save(partition: number, epoch: number, checkpoint: Buffer): Promise<'ok' | 'fenced'> {
    const [epochKey, checkpointKey] = this.keys(partition);
    const written = await this.redis.eval(SAVE_IF_OWNER, 2, epochKey, checkpointKey, String(epoch), checkpoint);
    return written === 1 ? 'ok' : 'fenced';
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
