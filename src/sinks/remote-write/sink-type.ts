/**
 * `type: remote_write`, the default sink type: its options schema, its tenants' two forms and the
 * default route, and its factory (the points are flattened into Prometheus samples as they are queued).
 *
 * Its tenants are kept flat (remote-write options beside the tenant's own fields): that is the
 * form the shipped pipelines use, and the one the default route (a header-routed multi-tenant
 * receiver, remote-write only) shares.
 */
import { z } from 'zod';
import { routeFields, tenantFields, tenantsSectionSchema, type TenantsSection } from '../../tenancy/config.ts';
import type { SinkType } from '../sink-type.ts';
import { RESERVED_HEADERS, checkRemoteWrite, remoteWriteFields } from './config.ts';
import { RemoteWriteSink } from './index.ts';
import { RemoteWritePointSink } from './point-sink.ts';
import { createSinkMetrics } from './metrics.ts';

/** `sink: { type: remote_write, ... }`. */
const remoteWriteSinkSchema = z
  .object({ type: z.literal('remote_write'), ...remoteWriteFields })
  .strict()
  .superRefine(checkRemoteWrite);

/** The flat form: remote-write options beside the tenant's own fields. */
export const remoteWriteTenantSchema = z
  .object({ ...remoteWriteFields, ...tenantFields })
  .strict()
  .superRefine(checkRemoteWrite);

export type RemoteWriteTenantConfig = z.output<typeof remoteWriteTenantSchema>;

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

/** A section of remote-write tenants only (flat form), as RemoteWriteSink and its tests take it. */
export const remoteWriteTenantsSchema = tenantsSectionSchema(remoteWriteTenantSchema, defaultRouteSchema);
export type RemoteWriteTenantsConfig = TenantsSection<RemoteWriteTenantConfig, DefaultRouteConfig>;

export const remoteWriteSinkType: SinkType<typeof remoteWriteSinkSchema, RemoteWriteTenantConfig, DefaultRouteConfig> = {
  type: 'remote_write',
  schema: remoteWriteSinkSchema,
  access: (tenant) => ({ access: tenant, path: [] }),
  create: ({ tenants, default_route }, { logger, registry, env, shared }) => {
    const sink = new RemoteWriteSink({ tenants, default_route }, { logger, env, events: shared('remote_write', () => createSinkMetrics(registry)) });
    return new RemoteWritePointSink(sink);
  },
};
