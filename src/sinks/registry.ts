/**
 * The sink registry: sink types keyed by `type:`, as codecs are keyed by `codec:`. Each type is one
 * folder under src/sinks/ whose sink-type.ts defines it (options schema, endpoint access, factory;
 * sink-type.ts at this level says what that is), plus one line in SINK_TYPES below. Nothing else
 * here names a type but remote_write, the default (flat form and default route).
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
import { z } from 'zod';
import type { MetricPoint } from '../core/metric-model.ts';
import { tenantFields, tenantsSectionSchema, type TenantsSection } from '../tenancy/config.ts';
import { otlpSinkType } from './otlp/sink-type.ts';
import {
  defaultRouteSchema,
  remoteWriteSinkType,
  remoteWriteTenantSchema,
  type DefaultRouteConfig,
  type RemoteWriteTenantConfig,
} from './remote-write/sink-type.ts';
import type { BuiltSink, ExplicitTenant, SinkContext, TenantAccess } from './sink-type.ts';

export type { BuiltSink, SinkContext } from './sink-type.ts';
export {
  defaultRouteSchema,
  remoteWriteTenantSchema,
  remoteWriteTenantsSchema,
  type DefaultRouteConfig,
  type RemoteWriteTenantConfig,
  type RemoteWriteTenantsConfig,
} from './remote-write/sink-type.ts';

/** The registry: one line per sink type. */
const SINK_TYPES = [
  remoteWriteSinkType,
  otlpSinkType,
] as const;

type Registered = (typeof SINK_TYPES)[number];
const [firstSchema, ...otherSchemas] = SINK_TYPES.map((type): Registered['schema'] => type.schema);

/** `sink:` of an explicit tenant entry: one member per sink type. */
export const sinkConfigSchema = z
  .discriminatedUnion('type', [firstSchema!, ...otherSchemas])
  .describe(`Where this tenant's metrics go: \`type\` picks the sink (${SINK_TYPES.map((t) => t.type).join(', ')}), the rest are its options.`);

export type SinkConfig = z.output<typeof sinkConfigSchema>;
export type SinkType = SinkConfig['type'];

/** A tenant of any type but remote_write: its sink options stay under `sink:`. */
export type ExplicitTenantConfig = ExplicitTenant<Exclude<SinkConfig, { type: 'remote_write' }>>;
export type TenantConfig = RemoteWriteTenantConfig | ExplicitTenantConfig;

const explicitTenantSchema = z
  .object({ sink: sinkConfigSchema, ...tenantFields })
  .strict()
  .transform((entry): TenantConfig => {
    if (entry.sink.type !== 'remote_write') return entry as ExplicitTenantConfig;
    // remote_write keeps the flat form, whichever form it was written in.
    const { sink, ...owned } = entry;
    const { type: _type, ...options } = sink;
    return { ...options, ...owned };
  });

/**
 * A tenant entry: the explicit form when it has a `sink:` key, the flat one otherwise. Chosen by
 * that key rather than by a zod union, so errors name the field at fault (`acme.sink.endpoint`)
 * instead of "invalid input" for the entry.
 */
const tenantEntrySchema = byForm(explicitTenantSchema, remoteWriteTenantSchema);

/** The pipeline's `tenants:` section. */
export const tenantsConfigSchema = tenantsSectionSchema(tenantEntrySchema, defaultRouteSchema);

export type TenantsConfig = TenantsSection<TenantConfig, DefaultRouteConfig>;

/** The sink type a parsed tenant entry names. */
export function sinkTypeOf(tenant: TenantConfig): SinkType {
  return 'sink' in tenant ? tenant.sink.type : 'remote_write';
}

/** The registered type of `name`, typed loosely: entries reach it only after the schema checked them against it. */
function typeNamed(name: SinkType): {
  access(tenant: TenantConfig): TenantAccess;
  create(section: { tenants: Record<string, TenantConfig>; default_route?: DefaultRouteConfig | undefined }, context: SinkContext): BuiltSink;
} {
  return SINK_TYPES.find((type) => type.type === name) as ReturnType<typeof typeNamed>;
}

/** A tenant's endpoint, headers, auth and TLS, and where they sit in its entry (`['sink']` in the explicit form). */
export function endpointAccessOf(tenant: TenantConfig): TenantAccess {
  return typeNamed(sinkTypeOf(tenant)).access(tenant);
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

/** A pipeline's `tenants:` section cannot be served as configured. */
export class SinkWiringError extends Error {
  override readonly name = 'SinkWiringError';
}

/**
 * Builds every sink a pipeline's `tenants:` section names (one per sink type in use) and returns
 * them with the sink serving each tenant. The default route is served by remote_write.
 */
export function createSinks(section: TenantsConfig, context: SinkContext): { readonly byTenant: ReadonlyMap<string, BuiltSink>; readonly fallback: BuiltSink | undefined; readonly all: readonly BuiltSink[] } {
  const grouped = new Map<SinkType, Record<string, TenantConfig>>(SINK_TYPES.map((type) => [type.type, {}]));
  for (const [id, tenant] of Object.entries(section.tenants)) grouped.get(sinkTypeOf(tenant))![id] = tenant;
  const byTenant = new Map<string, BuiltSink>();
  const all: BuiltSink[] = [];
  let fallback: BuiltSink | undefined;
  for (const [type, tenants] of grouped) {
    const route = type === 'remote_write' ? section.default_route : undefined;
    if (Object.keys(tenants).length === 0 && route === undefined) continue;
    const built = typeNamed(type).create({ tenants, default_route: route }, context);
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

  expedite(tenant: string): void {
    (this.byTenant.get(tenant) ?? this.fallback)?.expedite?.(tenant);
  }

  async flush(): Promise<void> {
    await Promise.all(this.all.map((sink) => sink.flush()));
  }

  async close(deadline?: AbortSignal): Promise<void> {
    await Promise.all(this.all.map((sink) => sink.close(deadline)));
  }
}
