/**
 * Tenants from a registry in Redis: one hash per tenant, at `<key_prefix><tenant id>`, so a
 * platform adds or removes a tenant with one HSET / DEL and no file edit. Its fields map onto a
 * tenant entry of the pipeline file (validated by the same schema by config/reload):
 *
 * | field                      | entry                                        |
 * |----------------------------|----------------------------------------------|
 * | endpoint (required)        | endpoint (`sink.endpoint` for otlp)          |
 * | protocol                   | remote_write (default) or otlp               |
 * | bearer_token_env           | auth.bearer_token_env                        |
 * | basic_auth_username        | auth.basic.username                          |
 * | basic_auth_password_env    | auth.basic.password_env                      |
 * | header.<Name>              | headers.<Name> (a literal, e.g. X-Scope-OrgID) |
 * | header_env.<Name>          | headers.<Name>.value_from_env                |
 * | label.<name>               | extra_labels.<name>                          |
 * | max_active_series, max_samples_per_second, max_state_series | limits.*    |
 *
 * Secrets never come from Redis: a hash names the environment variable that holds them, as the
 * file does (anyone who can write to Redis must not learn or set a credential through it). Any
 * other field refuses the entry.
 */
import { Redis } from 'ioredis';
import { isValidTenantId } from './config.ts';

/** A registry hash as read: field → value. */
export type RegistryHash = Readonly<Record<string, string>>;

const LIMIT_FIELDS = new Set(['max_active_series', 'max_samples_per_second', 'max_state_series']);
const SAFE_FIELD = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The tenant entry a registry hash stands for, in the pipeline file's shape, or why it cannot be
 * one. Messages name fields, never values.
 */
export function registryEntry(hash: RegistryHash): { readonly entry: Record<string, unknown> } | { readonly problem: string } {
  const headers: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const limits: Record<string, number> = {};
  const auth: { bearer_token_env?: string; basic?: { username?: string; password_env?: string } } = {};
  let endpoint: string | undefined;
  let protocol = 'remote_write';
  for (const [field, value] of Object.entries(hash)) {
    if (field === 'endpoint') endpoint = value;
    else if (field === 'protocol') protocol = value;
    else if (field === 'bearer_token_env') auth.bearer_token_env = value;
    else if (field === 'basic_auth_username') (auth.basic ??= {}).username = value;
    else if (field === 'basic_auth_password_env') (auth.basic ??= {}).password_env = value;
    else if (field.startsWith('header.')) headers[field.slice('header.'.length)] = value;
    else if (field.startsWith('header_env.')) headers[field.slice('header_env.'.length)] = { value_from_env: value };
    else if (field.startsWith('label.')) labels[field.slice('label.'.length)] = value;
    else if (LIMIT_FIELDS.has(field)) {
      const number = Number(value);
      if (value.trim() === '' || !Number.isFinite(number)) return { problem: `field ${field} is not a number` };
      limits[field] = number;
    } else return { problem: SAFE_FIELD.test(field) ? `unknown field ${field}` : 'an unknown field' };
  }
  if (endpoint === undefined) return { problem: 'field endpoint is missing' };
  const access = { endpoint, ...(Object.keys(headers).length > 0 ? { headers } : {}), ...(Object.keys(auth).length > 0 ? { auth } : {}) };
  const owned = { ...(Object.keys(labels).length > 0 ? { extra_labels: labels } : {}), ...(Object.keys(limits).length > 0 ? { limits } : {}) };
  if (protocol === 'remote_write') return { entry: { ...access, ...owned } };
  if (protocol === 'otlp') return { entry: { sink: { type: 'otlp', ...access }, ...owned } };
  return { problem: 'field protocol must be remote_write or otlp' };
}

/** Where a registry is and how often it is read. */
export interface RegistryOptions {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly pollIntervalMs: number;
}

/** Keys a scan asks for per round trip; the registry holds tenants, so a few rounds at most. */
const SCAN_COUNT = 500;

/**
 * Reads the registry by polling: SCAN for the prefix, HGETALL each key, every poll interval.
 *
 * Polling rather than keyspace notifications: notifications are off unless the server is
 * configured for them (`notify-keyspace-events`, often not allowed on managed Redis), they are
 * pub/sub and so lost while the connection is down, and on a cluster each node sends only its own.
 * A poller that must exist for correctness anyway makes them an optimisation only; with a bounded
 * interval (1 s to 5 min) a tenant appears within one interval and costs one scan per interval.
 */
export class RedisTenantRegistry {
  private readonly redis: Redis;

  constructor(private readonly options: RegistryOptions) {
    // No offline queue and no endless retry of a command: a poll fails fast and the next one tries again.
    this.redis = new Redis(options.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
    this.redis.on('error', () => {}); // reported by the failing read, without the URL
  }

  /** Every tenant hash under the prefix, by tenant id; keys whose id is not a valid tenant id are reported apart. */
  async read(): Promise<{ readonly tenants: ReadonlyMap<string, RegistryHash>; readonly invalidIds: number }> {
    if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${escapeGlob(this.options.keyPrefix)}*`, 'COUNT', SCAN_COUNT);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    const tenants = new Map<string, RegistryHash>();
    let invalidIds = 0;
    for (const key of keys.sort()) {
      const id = key.slice(this.options.keyPrefix.length);
      if (!isValidTenantId(id)) {
        invalidIds++;
        continue;
      }
      // A key deleted between the scan and here reads as an empty hash: the tenant is gone.
      const hash = await this.redis.hgetall(key).catch((error: unknown) => {
        if (String(error).includes('WRONGTYPE')) return {};
        throw error;
      });
      if (Object.keys(hash).length > 0) tenants.set(id, hash);
    }
    return { tenants, invalidIds };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
