/**
 * The remote-write sink: one independent TenantSender (queue, batcher,
 * in-flight request, retries) per tenant, so a slow or failing tenant endpoint
 * never delays another tenant, and a tenant's samples can only reach the
 * endpoint configured for that tenant.
 */
import type { Logger } from 'pino';
import type { Sample } from '../../core/types.ts';
import type { RemoteWriteConfig } from './config.ts';
import { TenantSender } from './sender.ts';
import type { SendFunction, SenderEvents } from './sender.ts';

export { remoteWriteConfigSchema, type RemoteWriteConfig } from './config.ts';
export { noopSenderEvents, TenantSender, type SenderEvents } from './sender.ts';
export { buildRequestBody, decodeRequestBody, type RejectedSample, type RequestBody } from './encode.ts';
export { SLUICE_VERSION } from './version.ts';

/** write() got a tenant with no configured endpoint: a routing bug upstream, never data to drop quietly. */
export class UnknownTenantError extends Error {
  override readonly name = 'UnknownTenantError';
  constructor(readonly tenant: string) {
    super(`no remote-write endpoint is configured for tenant ${JSON.stringify(tenant)}`);
  }
}

export interface RemoteWriteSinkOptions {
  readonly logger: Logger;
  readonly events?: SenderEvents;
  /** Replaces the HTTP call for every tenant; for tests. */
  readonly send?: SendFunction;
  /** Jitter source in [0, 1); for tests. */
  readonly random?: () => number;
}

export class RemoteWriteSink {
  // A Map, not the config record: tenant ids come from data, and a plain-object
  // lookup would "find" inherited keys such as "constructor" or "__proto__".
  private readonly senders = new Map<string, TenantSender>();

  constructor(tenants: Readonly<Record<string, RemoteWriteConfig>>, options: RemoteWriteSinkOptions) {
    for (const [tenant, config] of Object.entries(tenants)) {
      const { logger, events, send, random } = options;
      this.senders.set(tenant, new TenantSender({ tenant, config, logger, events, send, random }));
    }
  }

  /** Tenant ids with a configured endpoint. */
  get tenants(): string[] {
    return [...this.senders.keys()];
  }

  /** Queues samples for `tenant`'s endpoint. Never blocks; throws only UnknownTenantError. */
  write(tenant: string, samples: readonly Sample[]): void {
    const sender = this.senders.get(tenant);
    if (sender === undefined) throw new UnknownTenantError(tenant);
    sender.enqueue(samples);
  }

  /** Resolves when every sample written before the call has been sent or has failed, for all tenants. */
  async flush(): Promise<void> {
    await Promise.all(Array.from(this.senders.values(), (sender) => sender.flush()));
  }

  /**
   * Flushes and stops every tenant. If `signal` fires first (a shutdown
   * deadline), in-flight requests are aborted and the rest counted as failed.
   */
  async close(signal?: AbortSignal): Promise<void> {
    await Promise.all(Array.from(this.senders.values(), (sender) => sender.close(signal)));
  }
}

