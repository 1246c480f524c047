/**
 * The `tenants:` section's tenant side: tenant ids, what a tenant owns whatever its sink (extra
 * labels, metric allow/deny lists, limits), the default route's routing fields, and the section's
 * shape (one entry per tenant id, plus the reserved `default_route` key).
 *
 * Where a tenant's data goes (endpoint, auth, TLS, headers, batching) belongs to its sink type and
 * is composed in by src/sinks/registry.ts. This module never imports a sink: the layers point one
 * way (sinks may import tenancy), which test/unit/dependency-rules.test.ts enforces.
 */
import { z } from 'zod';
import { durationSchema } from '../core/duration.ts';
import { LABEL_NAME, OVERFLOW_LABEL } from '../core/series-labels.ts';

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

/** Generous for one tenant's real series (Mimir's default per-tenant limit is 150k), small enough for a flood. */
export const DEFAULT_MAX_STATE_SERIES = 100_000;

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
    max_state_series: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_MAX_STATE_SERIES)
      .describe(
        "Most series of this tenant Sluice keeps window state for, counted as the receiver counts them (every histogram " +
          'bucket, _sum and _count), enforced where series are born (in stage 2, a share per partition of the internal ' +
          `topic). New series beyond it fold into the overflow series of their metrics, labelled ${OVERFLOW_LABEL}="true", ` +
          'their values merged; totals kept of expired counters and histograms are bounded by the same number, oldest ' +
          'dropped first. Bounds memory under label floods.',
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

/** What a tenant owns whatever its sink; the default route applies the same to each tenant it serves. */
export const tenantFields = {
  extra_labels: extraLabelsSchema,
  metrics: metricsFilterSchema.prefault({}).describe('Which metrics this tenant receives.'),
  limits: limitsSchema.prefault({}).describe('Per-tenant limits.'),
};

/** The default route's routing fields: how one multi-tenant receiver learns which tenant a request is for. */
export const routeFields = {
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
};

/** The parsed section: declared tenants by id, and the default route if any. */
export interface TenantsSection<Tenant, Route> {
  readonly tenants: Readonly<Record<string, Tenant>>;
  readonly default_route: Route | undefined;
}

/**
 * The whole `tenants:` section from the schemas of one entry and of the default route (both
 * composed by the sink registry): tenant ids checked, at least one tenant or a route required.
 */
export function tenantsSectionSchema<Entry extends z.ZodType, Route extends z.ZodType>(entry: Entry, route: Route) {
  return z
    .object({
      default_route: route
        .optional()
        .describe(
          'Route for tenants without an entry: one endpoint, the tenant id sent in tenant_header (X-Scope-OrgID). ' +
            'Reserved key, not a tenant id.',
        ),
    })
    .catchall(entry)
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
    .transform((section): TenantsSection<z.output<Entry>, z.output<Route>> => {
      const tenants: Record<string, z.output<Entry>> = {};
      for (const [id, value] of Object.entries(section)) {
        if (id !== 'default_route') tenants[id] = value as z.output<Entry>;
      }
      return { tenants, default_route: section.default_route as z.output<Route> | undefined };
    })
    .describe("Tenants and where each one's data goes; a tenant's data goes only to its own sink.");
}

export type TenantFieldsConfig = z.output<z.ZodObject<typeof tenantFields>>;
export type TenantLimitsConfig = z.output<typeof limitsSchema>;
export type MetricsFilterConfig = z.output<typeof metricsFilterSchema>;
