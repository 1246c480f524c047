/**
 * The sink registry: sink types keyed by `type:`, as codecs are keyed by `codec:`. Each type is one
 * folder under src/sinks/ with its options schema and its factory, plus one line in SINK_TYPES.
 *
 * It also composes the `tenants:` section: tenancy's own fields (src/tenancy/config.ts) beside each
 * tenant's sink options. A tenant entry takes two forms:
 *
 * ```yaml
 * tenants:
 *   acme:                                   # flat form: means `type: remote_write` (as before)
 *     endpoint: http://prometheus-acme:9090/api/v1/write
 *     limits: { max_active_series: 50000 }
 *   globex:                                 # explicit form: any sink type
 *     sink: { type: otlp, endpoint: http://prometheus-globex:9090/api/v1/otlp }
 *     limits: { max_active_series: 50000 }
 * ```
 *
 * A parsed remote_write entry keeps the flat shape RemoteWriteSink reads; other types keep `sink`.
 * The default route is remote_write only: it is a header-routed multi-tenant receiver.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { MetricPoint, MetricSink } from '../core/metric-model.ts';
import { RESERVED_HEADERS, checkRemoteWrite, remoteWriteFields } from './remote-write/config.ts';
import type { EndpointAccess, Environment } from './http/secrets.ts';
import { metricsUrl, otlpSinkConfigSchema, type OtlpSinkConfig } from './otlp/config.ts';
import { routeFields, tenantFields, tenantsSectionSchema, type TenantFieldsConfig, type TenantsSection } from '../tenancy/config.ts';
import { OtlpSink, createOtlpSinkMetrics } from './otlp/index.ts';
import { RemoteWriteSink, createSinkMetrics } from './remote-write/index.ts';
import { FlatteningSink } from './prometheus/flatten.ts';

const remoteWriteSinkSchema = z
  .object({ type: z.literal('remote_write'), ...remoteWriteFields })
  .strict()
  .superRefine(checkRemoteWrite);

/** `sink:` of an explicit tenant entry: one member per sink type. */
export const sinkConfigSchema = z
  .discriminatedUnion('type', [remoteWriteSinkSchema, otlpSinkConfigSchema])
  .describe('Where this tenant\'s metrics go: `type` picks the sink (remote_write, otlp), the rest are its options.');

export type SinkConfig = z.output<typeof sinkConfigSchema>;
export type SinkType = SinkConfig['type'];

/** The flat form, today's and the shipped pipelines': remote-write options beside the tenant's own fields. */
const flatTenantSchema = z
  .object({ ...remoteWriteFields, ...tenantFields })
  .strict()
  .superRefine(checkRemoteWrite);

export type RemoteWriteTenantConfig = z.output<typeof flatTenantSchema>;
/** One remote-write tenant in the flat form (what RemoteWriteSink's TenantSender takes). */
export const remoteWriteTenantSchema = flatTenantSchema;
export type OtlpTenantConfig = TenantFieldsConfig & { readonly sink: OtlpSinkConfig };
export type TenantConfig = RemoteWriteTenantConfig | OtlpTenantConfig;

const explicitTenantSchema = z
  .object({ sink: sinkConfigSchema, ...tenantFields })
  .strict()
  .transform((entry): TenantConfig => {
    if (entry.sink.type !== 'remote_write') return entry as OtlpTenantConfig;
    const { sink, ...owned } = entry;
    const { type: _type, ...options } = sink;
    return { ...options, ...owned };
  });

/**
 * A tenant entry: the explicit form when it has a `sink:` key, the flat one otherwise. Chosen by
 * that key rather than by a zod union, so errors name the field at fault (`acme.sink.endpoint`)
 * instead of "invalid input" for the entry.
 */
const tenantEntrySchema = byForm(explicitTenantSchema, flatTenantSchema);

export const defaultRouteSchema = z
  .object({ ...remoteWriteFields, ...tenantFields, ...routeFields })
  .strict()
  .superRefine((route, ctx) => {
    checkRemoteWrite(route, ctx);
    const lower = route.tenant_header.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) {
      ctx.addIssue({ code: 'custom', path: ['tenant_header'], message: `tenant_header cannot be ${RESERVED_HEADERS.get(lower)}: the sink sets it itself` });
    }
    const clash = Object.keys(route.headers).find((name) => name.toLowerCase() === lower);
    if (clash !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['headers', clash], message: `header "${clash}" is set per tenant by tenant_header` });
    }
  });

export type DefaultRouteConfig = z.output<typeof defaultRouteSchema>;

/** The pipeline's `tenants:` section. */
export const tenantsConfigSchema = tenantsSectionSchema(tenantEntrySchema, defaultRouteSchema);

export type TenantsConfig = TenantsSection<TenantConfig, DefaultRouteConfig>;

/** A section of remote-write tenants only (flat form), as RemoteWriteSink and its tests take it. */
export const remoteWriteTenantsSchema = tenantsSectionSchema(flatTenantSchema, defaultRouteSchema);
export type RemoteWriteTenantsConfig = TenantsSection<RemoteWriteTenantConfig, DefaultRouteConfig>;

/** The sink type a parsed tenant entry names. */
export function sinkTypeOf(tenant: TenantConfig): SinkType {
  return 'sink' in tenant ? tenant.sink.type : 'remote_write';
}

/** A tenant's endpoint, headers, auth and TLS, and where they sit in its entry (`['sink']` in the explicit form). */
export function endpointAccessOf(tenant: TenantConfig): { access: EndpointAccess; path: readonly string[] } {
  if (!('sink' in tenant)) return { access: tenant, path: [] };
  return { access: { ...tenant.sink, endpoint: metricsUrl(tenant.sink) }, path: ['sink'] };
}

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


/**
 * Picks the explicit or the flat schema by the presence of `sink:`, reporting the chosen one's
 * issues as its own. The JSON Schema shows both forms (anyOf), for editors.
 */
function byForm<Explicit extends z.ZodType, Flat extends z.ZodType>(explicit: Explicit, flat: Flat) {
  const jsonOf = (schema: z.ZodType): Record<string, unknown> => {
    const { $schema: _omit, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return json;
  };
  return z
    .unknown()
    .transform((input, ctx): z.output<Explicit> | z.output<Flat> => {
      const hasSink = typeof input === 'object' && input !== null && Object.prototype.hasOwnProperty.call(input, 'sink');
      const result = (hasSink ? explicit : flat).safeParse(input);
      if (result.success) return result.data as z.output<Explicit> | z.output<Flat>;
      for (const issue of result.error.issues) ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
      return z.NEVER;
    })
    .meta({ anyOf: [jsonOf(explicit), jsonOf(flat)] });
}

/** A built sink: every type takes MetricPoints (remote_write through its flattener). */
export type BuiltSink = MetricSink & Closable;

interface Closable {
  /** Gives up on unsettled writes when `deadline` aborts (each sink has its own default). */
  close(deadline?: AbortSignal): Promise<void>;
}

type TenantOf<T extends SinkType> = T extends 'remote_write' ? RemoteWriteTenantConfig : OtlpTenantConfig;

/** The registry: one line per sink type, its factory; its options schema is in sinkConfigSchema above. */
const SINK_FACTORIES: { readonly [T in SinkType]: (section: TenantsSection<TenantOf<T>, DefaultRouteConfig>, context: SinkContext) => BuiltSink } = {
  // Remote-write v1 carries Prometheus samples: the points are flattened into them.
  remote_write: (section, { logger, registry, env, shared }) =>
    new FlatteningSink(new RemoteWriteSink(section, { logger, env, events: shared('remote_write', () => createSinkMetrics(registry)) })),
  otlp: ({ tenants }, { logger, registry, env, shared }) => new OtlpSink(tenants, { logger, env, events: shared('otlp', () => createOtlpSinkMetrics(registry)) }),
};

/** A pipeline's `tenants:` section cannot be served as configured. */
export class SinkWiringError extends Error {
  override readonly name = 'SinkWiringError';
}

/**
 * Builds every sink a pipeline's `tenants:` section names (one per sink type in use) and returns
 * them with the sink serving each tenant. The default route is served by remote_write.
 */
export function createSinks(section: TenantsConfig, context: SinkContext): { readonly byTenant: ReadonlyMap<string, BuiltSink>; readonly fallback: BuiltSink | undefined; readonly all: readonly BuiltSink[] } {
  const grouped: { [T in SinkType]: Record<string, TenantOf<T>> } = { remote_write: {}, otlp: {} };
  for (const [id, tenant] of Object.entries(section.tenants)) {
    if ('sink' in tenant) grouped[tenant.sink.type][id] = tenant;
    else grouped.remote_write[id] = tenant;
  }
  const byTenant = new Map<string, BuiltSink>();
  const all: BuiltSink[] = [];
  let fallback: BuiltSink | undefined;
  for (const type of Object.keys(SINK_FACTORIES) as SinkType[]) {
    const tenants = grouped[type];
    const route = type === 'remote_write' ? section.default_route : undefined;
    if (Object.keys(tenants).length === 0 && route === undefined) continue;
    const create = SINK_FACTORIES[type] as (section: TenantsSection<TenantConfig, DefaultRouteConfig>, context: SinkContext) => BuiltSink;
    const built = create({ tenants, default_route: route }, context);
    all.push(built);
    for (const id of Object.keys(tenants)) byTenant.set(id, built);
    if (route !== undefined) fallback = built;
  }
  return { byTenant, fallback, all };
}

/**
 * The sink a pipeline's stage 2 writes to: each tenant's points go to the sink of its type, a
 * tenant not listed to the default route (remote_write). Unroutable tenants never reach here:
 * stage 1 dead-letters them.
 */
export function createPipelineSink(section: TenantsConfig, context: SinkContext): BuiltSink {
  const sinks = createSinks(section, context);
  if (sinks.all.length === 0) throw new SinkWiringError('no tenant and no default_route to send to');
  return sinks.all.length === 1 ? sinks.all[0]! : new TenantRouter(sinks.byTenant, sinks.fallback, sinks.all);
}

/** Routes each tenant's writes to its sink; flush and close reach every sink. */
class TenantRouter implements BuiltSink {
  constructor(
    private readonly byTenant: ReadonlyMap<string, BuiltSink>,
    private readonly fallback: BuiltSink | undefined,
    private readonly all: readonly BuiltSink[],
  ) {}

  write(tenant: string, points: readonly MetricPoint[], onSettled?: () => void): void {
    const sink = this.byTenant.get(tenant) ?? this.fallback;
    // A bug upstream, not data: stage 1 routes only configured tenants (or the default route).
    if (sink === undefined) throw new SinkWiringError(`no sink for tenant ${JSON.stringify(tenant)}`);
    sink.write(tenant, points, onSettled);
  }

  async flush(): Promise<void> {
    await Promise.all(this.all.map((sink) => sink.flush()));
  }

  async close(deadline?: AbortSignal): Promise<void> {
    await Promise.all(this.all.map((sink) => sink.close(deadline)));
  }
}
