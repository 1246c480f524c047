/**
 * The OTLP/HTTP metrics sink (`sink: { type: otlp }`): one OtlpTenantSender per tenant, built at
 * start-up from the tenant registry, so a tenant's points can only reach the endpoint configured
 * for it and a slow receiver delays only its own tenant.
 */
import type { Logger } from 'pino';
import type { MetricPoint, MetricSink } from '../../core/metric-model.ts';
import type { TenantFieldsConfig } from '../../tenancy/config.ts';
import { resolveEndpoint, type Environment } from '../http/secrets.ts';
import { metricsUrl, type OtlpSinkConfig } from './config.ts';
import { noopOtlpEvents, type OtlpSinkEvents } from './metrics.ts';
import { OtlpTenantSender, type OtlpWriteOutcome, type SendExport } from './sender.ts';

export { otlpSinkConfigSchema, type OtlpSinkConfig } from './config.ts';
export { createOtlpSinkMetrics, noopOtlpEvents, type OtlpSinkEvents } from './metrics.ts';
export type { OtlpWriteOutcome } from './sender.ts';

/** One OTLP tenant as the registry hands it over: its sink options and what it owns. */
export type OtlpTenant = TenantFieldsConfig & { readonly sink: OtlpSinkConfig };

export interface OtlpSinkOptions {
  readonly logger: Logger;
  readonly events?: OtlpSinkEvents;
  /** Where `*_env` secrets are read from; default process.env. */
  readonly env?: Environment;
  /** close() without a signal gives up on unsettled points after this long (default 30 s). */
  readonly closeTimeoutMs?: number;
  /** Replaces the HTTP call for every tenant; for tests. */
  readonly send?: SendExport;
  readonly random?: () => number;
}

/** write() got a tenant with no OTLP endpoint: a routing bug upstream, never data to drop quietly. */
export class UnknownOtlpTenantError extends Error {
  override readonly name = 'UnknownOtlpTenantError';
  constructor(readonly tenant: string) {
    super(`no OTLP endpoint is configured for tenant ${JSON.stringify(tenant)}`);
  }
}

export class OtlpSink implements MetricSink {
  // A Map, not the config record: tenant ids come from data ("constructor", "__proto__").
  private readonly senders = new Map<string, OtlpTenantSender>();

  constructor(
    tenants: Readonly<Record<string, OtlpTenant>>,
    private readonly options: OtlpSinkOptions,
  ) {
    const env = options.env ?? process.env;
    for (const [tenant, config] of Object.entries(tenants)) {
      // Secrets and TLS files are read now, so a missing variable fails start-up, not the first request.
      const endpoint = resolveEndpoint(tenant, { ...config.sink, endpoint: metricsUrl(config.sink) }, env);
      const sender = new OtlpTenantSender({
        tenant,
        sink: config.sink,
        owned: config,
        endpoint,
        logger: options.logger,
        events: options.events ?? noopOtlpEvents,
        send: options.send,
        random: options.random,
      });
      this.senders.set(tenant, sender);
    }
  }

  get tenants(): string[] {
    return [...this.senders.keys()];
  }

  /** Points written for `tenant` and not yet settled. */
  backlog(tenant: string): number {
    return this.senders.get(tenant)?.backlog ?? 0;
  }

  /**
   * Queues points for `tenant`; `onSettled` runs exactly once, asynchronously, when every point
   * was acknowledged, filtered or given up on (and counted). Throws only UnknownOtlpTenantError.
   */
  write(tenant: string, points: readonly MetricPoint[], onSettled?: (outcome: OtlpWriteOutcome) => void): void {
    const sender = this.senders.get(tenant);
    if (sender === undefined) throw new UnknownOtlpTenantError(tenant);
    sender.write(points, onSettled);
  }

  async flush(): Promise<void> {
    await Promise.all(Array.from(this.senders.values(), (sender) => sender.flush()));
  }

  expedite(tenant: string): void {
    this.senders.get(tenant)?.expedite();
  }

  /** Flushes and stops every tenant; when `signal` fires (default: after closeTimeoutMs) the rest fails with reason `shutdown`. */
  async close(signal?: AbortSignal): Promise<void> {
    const deadline = signal ?? AbortSignal.timeout(this.options.closeTimeoutMs ?? 30_000);
    await Promise.all(Array.from(this.senders.values(), (sender) => sender.close(deadline)));
  }
}
