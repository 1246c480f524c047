/**
 * The `tenants:` section of a pipeline: the tenant registry. One entry per
 * tenant id with its remote-write endpoint and everything that is the
 * tenant's own (auth, TLS, extra labels, metric allow/deny lists, limits,
 * backlog bound), plus an optional `default_route` for tenants without an
 * entry (one multi-tenant receiver such as Mimir, Cortex or a VictoriaMetrics
 * cluster behind a header router, the tenant named by X-Scope-OrgID).
 *
 * ```yaml
 * tenants:
 *   acme:                                   # the minimal form, as before
 *     endpoint: http://prometheus-acme:9090/api/v1/write
 *   globex:
 *     endpoint: https://mimir.example/api/v1/push
 *     auth: { bearer_token_env: GLOBEX_RW_TOKEN }
 *     headers: { X-Scope-OrgID: globex, X-Extra: { value_from_env: GLOBEX_EXTRA } }
 *     tls: { ca_file: /etc/sluice/ca.pem }
 *     extra_labels: { tenant: globex }
 *     metrics: { allow: ['bailian_.*'], deny: ['.*_debug'] }
 *     limits: { max_active_series: 50000, max_samples_per_second: 20000 }
 *     backlog: { max_samples: 200000, policy: drop_oldest }
 *   default_route:                          # reserved key, not a tenant id
 *     endpoint: http://mimir:8080/api/v1/push
 *     tenant_header: X-Scope-OrgID
 * ```
 *
 * Parsing yields `{ tenants: { acme: …, globex: … }, default_route: … | undefined }`.
 * Secrets are only *named* here (environment variables); src/tenancy/secrets.ts
 * reads them when the sink is built.
 */
import { z } from 'zod';
import { durationSchema } from '../core/duration.ts';
import { checkRemoteWrite, remoteWriteFields, RESERVED_HEADERS } from '../sinks/remote-write/config.ts';
import { OVERFLOW_LABEL } from '../sinks/remote-write/series-catalog.ts';
import { LABEL_NAME } from '../sinks/remote-write/series.ts';

/** Tenant ids: also the X-Scope-OrgID value of the default route, so no separators, spaces or `|`. */
export const TENANT_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export function isValidTenantId(id: string): boolean {
  return TENANT_ID.test(id);
}

export { OVERFLOW_LABEL };

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const extraLabelsSchema = z
  .record(z.string(), z.string())
  .default({})
  .superRefine((labels, ctx) => {
    for (const [name, value] of Object.entries(labels)) {
      if (!LABEL_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'label names must match [a-zA-Z_][a-zA-Z0-9_]*' });
      } else if (name.startsWith('__')) {
        ctx.addIssue({ code: 'custom', path: [name], message: `label "${name}" is reserved (names starting with "__")` });
      } else if (name === OVERFLOW_LABEL) {
        ctx.addIssue({ code: 'custom', path: [name], message: `label "${OVERFLOW_LABEL}" is set by the sink on the overflow series` });
      }
      if (value === '') ctx.addIssue({ code: 'custom', path: [name], message: `label "${name}" needs a non-empty value` });
      else if (LONE_SURROGATE.test(value)) ctx.addIssue({ code: 'custom', path: [name], message: `label "${name}" is not valid UTF-8` });
    }
  })
  .describe(
    'Labels the sink adds to every series of this tenant. They win over data labels of the same name, so a record ' +
      'can never relabel its series into another identity.',
  );

const metricPattern = z.string().superRefine((pattern, ctx) => {
  try {
    new RegExp(`^(?:${pattern})$`, 'u');
  } catch (error) {
    // The engine's message quotes the pattern ("Invalid regular expression: /…/u: reason"); keep the reason only.
    const message = (error as Error).message;
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${message.slice(message.lastIndexOf(': ') + 2)}` });
  }
});

const metricsFilterSchema = z
  .object({
    allow: z
      .array(metricPattern)
      .default([])
      .describe('Metric-name regexes (anchored, like Prometheus relabelling); if any are given, only matching metrics are sent.'),
    deny: z.array(metricPattern).default([]).describe('Metric-name regexes (anchored) never sent; deny wins over allow.'),
  })
  .strict();

const limitsSchema = z
  .object({
    max_active_series: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe(
        'Most active series. Samples of new series beyond it are folded into one overflow series per metric name ' +
          `(and \`le\`), labelled ${OVERFLOW_LABEL}="true", values of one timestamp summed; a histogram is admitted or ` +
          'folded as a whole. Absent: no limit.',
      ),
    max_samples_per_second: z
      .number()
      .positive()
      .optional()
      .describe(
        'Sending rate limit (token bucket, burst of one second or one batch). Faster input waits in the backlog, ' +
          'where the backlog policy applies; it is never dropped by the limit itself. Absent: no limit.',
      ),
    series_ttl: durationSchema()
      .refine((ms) => ms > 0, 'limits.series_ttl must be greater than zero')
      .prefault('15m')
      .describe('A series with no sample for this long is no longer active and its state is dropped; a stale marker drops it at once.'),
    max_label_name_length: z.number().int().min(1).default(1024).describe('Longest label name in bytes; longer series are rejected.'),
    max_label_value_length: z
      .number()
      .int()
      .min(1)
      .default(2048)
      .describe('Longest label value in bytes; longer series are rejected (never truncated: truncation could merge series).'),
    max_labels_per_series: z.number().int().min(1).default(30).describe('Most labels per series, extra labels included.'),
  })
  .strict();

/** What a tenant owns beyond its endpoint; the default route applies the same to each tenant it serves. */
const tenantFields = {
  ...remoteWriteFields,
  extra_labels: extraLabelsSchema,
  metrics: metricsFilterSchema.prefault({}).describe('Which metrics this tenant receives.'),
  limits: limitsSchema.prefault({}).describe('Per-tenant limits.'),
};

export const tenantConfigSchema = z.object(tenantFields).strict().superRefine(checkRemoteWrite);

export const defaultRouteSchema = z
  .object({
    ...tenantFields,
    tenant_header: z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name')
      .default('X-Scope-OrgID')
      .describe('Header that carries the tenant id to the multi-tenant receiver.'),
    max_tenants: z
      .number()
      .int()
      .min(1)
      .default(1000)
      .describe('Most tenants served by the default route at once; samples of further tenants are counted as failed ("too_many_tenants").'),
  })
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

export const tenantsConfigSchema = z
  .object({
    default_route: defaultRouteSchema
      .optional()
      .describe(
        'Route for tenants without an entry: one endpoint, the tenant id sent in tenant_header (X-Scope-OrgID). ' +
          'Reserved key, not a tenant id.',
      ),
  })
  .catchall(tenantConfigSchema)
  .superRefine((section, ctx) => {
    // `when` below runs this even when the section itself is missing or not a mapping.
    if (section === null || typeof section !== 'object') return;
    const tenants = Object.keys(section).filter((key) => key !== 'default_route');
    for (const id of tenants) {
      if (!TENANT_ID.test(id)) {
        ctx.addIssue({ code: 'custom', path: [id], message: 'tenant ids are 1-64 letters, digits, "_", "." or "-"' });
      }
    }
    if (tenants.length === 0 && section.default_route === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'declare at least one tenant or a default_route' });
    }
    // Runs even when an entry has issues: only the keys are read.
  }, { when: () => true })
  .transform((section): TenantsConfig => {
    const tenants: Record<string, TenantConfig> = {};
    for (const [id, entry] of Object.entries(section)) {
      if (id !== 'default_route') tenants[id] = entry as TenantConfig;
    }
    return { tenants, default_route: section.default_route };
  })
  .describe("Tenants and their remote-write endpoints; a tenant's samples go only to its endpoint.");

export type TenantConfig = z.output<typeof tenantConfigSchema>;
export type DefaultRouteConfig = z.output<typeof defaultRouteSchema>;
export type TenantLimitsConfig = z.output<typeof limitsSchema>;
export type MetricsFilterConfig = z.output<typeof metricsFilterSchema>;

/** The parsed section: declared tenants by id, and the default route if any. */
export interface TenantsConfig {
  readonly tenants: Readonly<Record<string, TenantConfig>>;
  readonly default_route: DefaultRouteConfig | undefined;
}
