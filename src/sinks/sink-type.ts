/**
 * What a sink type is to the registry (registry.ts): its `sink:` options schema, where a tenant's
 * requests go (for the start-up check), and a factory. Each type defines one in its own folder
 * (`src/sinks/<type>/sink-type.ts`); the registry lists them, one line each.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { MetricSink } from '../core/metric-model.ts';
import type { TenantFieldsConfig } from '../tenancy/config.ts';
import type { EndpointAccess, Environment } from './http/secrets.ts';

/** What every factory gets: one per process, shared by the pipelines' sinks. */
export interface SinkContext {
  readonly logger: Logger;
  /** Where sink metrics are registered (the process's telemetry registry). */
  readonly registry: Registry;
  /** Where `*_env` secrets are read from; default process.env. */
  readonly env?: Environment;
  /** One value per key per process (a sink type's metrics, registered once however many pipelines use it). */
  shared<T>(key: string, make: () => T): T;
}

/** A built sink: every type takes MetricPoints. */
export type BuiltSink = MetricSink & Closable;

interface Closable {
  /** Gives up on unsettled writes when `deadline` aborts (each sink has its own default). */
  close(deadline?: AbortSignal): Promise<void>;
}

/** A tenant entry in the explicit form, as parsed: the tenant's own fields beside `sink:`. */
export type ExplicitTenant<Options> = TenantFieldsConfig & { readonly sink: Options };

/** Where a tenant's requests go and with which credentials, and where those sit in its entry. */
export interface TenantAccess {
  readonly access: EndpointAccess;
  /** Path of the sink options inside the tenant's entry (`['sink']` in the explicit form). */
  readonly path: readonly string[];
}

/** A `sink:` options schema: an object whose `type` is a literal, so the registry can discriminate on it. */
export type SinkOptionsSchema = z.core.$ZodTypeDiscriminable & z.ZodType<{ readonly type: string }>;

export interface SinkType<Schema extends SinkOptionsSchema, Tenant, Route = never> {
  readonly type: z.output<Schema>['type'];
  /** The options under `sink:`, `type` among them. */
  readonly schema: Schema;
  access(tenant: Tenant): TenantAccess;
  /** Builds the sink serving `tenants` (and the default route, for the type that has one). */
  create(section: { readonly tenants: Readonly<Record<string, Tenant>>; readonly default_route?: Route | undefined }, context: SinkContext): BuiltSink;
}
