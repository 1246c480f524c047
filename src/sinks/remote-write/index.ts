/**
 * The remote-write sink: one independent TenantSender (series catalog,
 * shards, batches, retries, its own connection pool) per tenant, so a slow,
 * throttling or dead receiver never delays another tenant, and a tenant's
 * samples can only reach the endpoint configured for that tenant.
 *
 * Built from the tenant registry (`tenants:` section, src/tenancy/config.ts):
 * declared tenants get a sender at construction; with a `default_route`, a
 * tenant without an entry gets one on its first write, sending to the route's
 * endpoint with its id in the route's tenant header (X-Scope-OrgID).
 */
import type { Logger } from 'pino';
import type { MetricPoint } from '../../core/metric-model.ts';
import type { Sample } from '../../core/types.ts';
import { SampleFlattener } from '../prometheus/flatten.ts';
import { isValidTenantId } from '../../tenancy/config.ts';
import type { DefaultRouteConfig, RemoteWriteTenantsConfig as TenantsConfig } from './sink-type.ts';
import { resolveEndpoint } from '../http/secrets.ts';
import type { Environment } from '../http/secrets.ts';
import type { SampleSink } from '../sink.ts';
import { completeEvents } from './events.ts';
import type { AllSenderEvents, SenderEvents } from './events.ts';
import { keepsHistogramsWhole, TenantSender } from './sender.ts';
import type { SendFunction, SettleCallback, TenantSenderConfig, WriteOutcome } from './sender.ts';

export { remoteWriteConfigSchema, type RemoteWriteConfig } from './config.ts';
export { TenantSender, type SendFunction, type SettleCallback, type TenantSenderConfig, type WriteOutcome } from './sender.ts';
export { noopSenderEvents, type SenderEvents } from './events.ts';
export { buildRequestBody, decodeRequestBody, type RejectedSample, type RequestBody } from './encode.ts';
export { createSinkMetrics, type SinkMetrics } from './metrics.ts';
export { SLUICE_VERSION } from './version.ts';
export { RemoteWritePointSink } from './point-sink.ts';

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
  /** Where `*_env` secrets are read from; default process.env. */
  readonly env?: Environment;
  /** Called when a tenant enters or leaves the blocked state (policy `block`), to pause/resume its sources. */
  readonly onBlockedChange?: (tenant: string, blocked: boolean) => void;
  /** close() without a signal gives up on unsettled samples after this long (default 30 s). */
  readonly closeTimeoutMs?: number;
  /** Replaces the HTTP call for every tenant; for tests. */
  readonly send?: SendFunction;
  /** Jitter source in [0, 1); for tests. */
  readonly random?: () => number;
}

/** Declared tenants by id (the pre-registry shape), or the parsed `tenants:` section. */
export type SinkTenants = TenantsConfig | Readonly<Record<string, TenantSenderConfig>>;

export class RemoteWriteSink implements SampleSink {
  // A Map, not the config record: tenant ids come from data, and a plain-object
  // lookup would "find" inherited keys such as "constructor" or "__proto__".
  private readonly senders = new Map<string, TenantSender>();
  private readonly defaultRoute: DefaultRouteConfig | undefined;
  private routed = 0;
  private readonly options: RemoteWriteSinkOptions;
  private readonly events: AllSenderEvents;
  private readonly log: Logger;
  private closed = false;

  constructor(tenants: SinkTenants, options: RemoteWriteSinkOptions) {
    this.options = options;
    this.events = completeEvents(options.events);
    this.log = options.logger;
    const section: { tenants: Readonly<Record<string, TenantSenderConfig>>; default_route: DefaultRouteConfig | undefined } =
      isTenantsConfig(tenants) ? tenants : { tenants, default_route: undefined };
    this.defaultRoute = section.default_route;
    for (const [tenant, config] of Object.entries(section.tenants)) {
      this.senders.set(tenant, this.newSender(tenant, config, undefined));
    }
    if (this.defaultRoute !== undefined) {
      // Check the route's secrets now, not on the first unknown tenant.
      resolveEndpoint('default_route', this.defaultRoute, options.env ?? process.env);
    }
  }

  /** Tenant ids with a sender (declared ones, and those the default route has served). */
  get tenants(): string[] {
    return [...this.senders.keys()];
  }

  /**
   * Queues samples for `tenant`. Never blocks. `onSettled` is called exactly
   * once, asynchronously, after every sample of this write was acknowledged
   * by a 2xx or given up on (and counted). Throws only UnknownTenantError, for
   * a tenant that is neither declared nor servable by the default route.
   */
  write(tenant: string, samples: readonly Sample[], onSettled?: SettleCallback): void {
    const sender = this.senderFor(tenant);
    if (sender !== undefined) sender.write(samples, onSettled);
    else this.refuse(tenant, samples.length, onSettled);
  }

  /**
   * write() for metric points, flattened into Prometheus samples by the tenant's sender as they
   * are queued (see RemoteWritePointSink); `onSettled` counts those samples.
   */
  writePoints(tenant: string, points: readonly MetricPoint[], onSettled?: SettleCallback): void {
    const sender = this.senderFor(tenant);
    if (sender !== undefined) sender.writePoints(points, onSettled);
    else this.refuse(tenant, new SampleFlattener().flatten(points, [], this.nativeHistograms(tenant)).length, onSettled);
  }

  /** The tenant's sender, made on its first write through the default route; undefined when the route refuses it. */
  private senderFor(tenant: string): TenantSender | undefined {
    let sender = this.senders.get(tenant);
    if (sender === undefined) {
      const route = this.defaultRoute;
      if (route === undefined || !isValidTenantId(tenant)) throw new UnknownTenantError(tenant);
      if (this.routed >= route.max_tenants || this.closed) return undefined;
      this.routed++;
      sender = this.newSender(tenant, route, { [route.tenant_header]: tenant });
      this.senders.set(tenant, sender);
      this.log.info({ tenant }, 'serving tenant through the default route');
    }
    return sender;
  }

  /**
   * Whether `tenant`'s histograms go as native histograms with custom buckets (its own settings,
   * or the default route's for a tenant it would serve): `histograms: native_custom_buckets` on a
   * protocol that can carry them (v2, auto). A sender that falls back to 1.0 sends them classic.
   */
  nativeHistograms(tenant: string): boolean {
    const config = this.senders.get(tenant)?.config ?? this.defaultRoute;
    return config !== undefined && keepsHistogramsWhole(config);
  }

  /** Samples written for `tenant` and not yet settled (0 for a tenant without a sender). */
  backlog(tenant: string): number {
    return this.senders.get(tenant)?.backlog ?? 0;
  }

  /** True while `tenant` is over its backlog bound under policy `block`: pause what feeds it. */
  isBlocked(tenant: string): boolean {
    return this.senders.get(tenant)?.isBlocked ?? false;
  }

  /** Sends `tenant`'s queued samples now, whatever their batches' age (a window just fired). */
  expedite(tenant: string): void {
    this.senders.get(tenant)?.expedite();
  }

  /** Resolves when every sample written before the call has been settled, for all tenants. */
  async flush(): Promise<void> {
    await Promise.all(Array.from(this.senders.values(), (sender) => sender.flush()));
  }

  /**
   * Flushes and stops every tenant. When `signal` fires (default: after
   * closeTimeoutMs), requests in flight are aborted and the rest fails with
   * reason `shutdown` — the outbox keeps them for the next start.
   */
  async close(signal?: AbortSignal): Promise<void> {
    this.closed = true;
    const deadline = signal ?? AbortSignal.timeout(this.options.closeTimeoutMs ?? 30_000);
    await Promise.all(Array.from(this.senders.values(), (sender) => sender.close(deadline)));
  }

  private newSender(tenant: string, config: TenantSenderConfig, extraHeaders: Record<string, string> | undefined): TenantSender {
    const { logger, events, send, random, env, onBlockedChange } = this.options;
    const endpoint = resolveEndpoint(tenant, config, env ?? process.env, extraHeaders);
    return new TenantSender({ tenant, config, logger, events, send, random, endpoint, onBlockedChange });
  }

  private refuse(tenant: string, samples: number, onSettled: SettleCallback | undefined): void {
    const reason = this.closed ? 'closed' : 'too_many_tenants';
    if (samples > 0) {
      this.events.received(tenant, samples);
      this.events.failed(tenant, samples, reason);
    }
    this.log.warn({ tenant, samples, reason, max_tenants: this.defaultRoute?.max_tenants }, 'default route refused a tenant');
    if (onSettled !== undefined) {
      const outcome: WriteOutcome = { delivered: 0, failed: samples, filtered: 0 };
      queueMicrotask(() => onSettled(outcome));
    }
  }
}

function isTenantsConfig(value: SinkTenants): value is TenantsConfig {
  const keys = Object.keys(value);
  if (!keys.includes('tenants') || !Object.prototype.hasOwnProperty.call(value, 'default_route')) return false;
  if (keys.some((key) => key !== 'tenants' && key !== 'default_route')) return false;
  const tenants = (value as { tenants: unknown }).tenants;
  return typeof tenants === 'object' && tenants !== null && typeof (tenants as { endpoint?: unknown }).endpoint !== 'string';
}
