/**
 * One tenant's OTLP/HTTP metrics endpoint (`sink: { type: otlp, ... }`), named as the OpenTelemetry
 * Collector's otlphttp exporter names its settings (`endpoint` + `/v1/metrics`, `metrics_endpoint`,
 * `encoding`, `compression`, `headers`, `timeout`, `tls`). Durations are strings in YAML and
 * milliseconds after parsing.
 *
 * Endpoint access (headers, auth, TLS) and the retry policy are the same settings as remote-write's
 * and validated by the same schemas, so a user learns them once.
 */
import { z } from 'zod';
import { durationSchema } from '../../core/duration.ts';
import { checkRemoteWrite, remoteWriteFields } from '../remote-write/config.ts';

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an absolute http:// or https:// URL' })
  // fetch refuses URLs with user:password@ outright, so catch it here with a way out.
  .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), {
    message: 'must not embed credentials (user:password@); use auth: { basic: ... } or auth: { bearer_token_env: ... }',
  });

const batchSchema = z
  .object({
    max_points: z.number().int().min(1).default(2000).describe('Largest number of points sent in one request.'),
    max_delay: durationSchema()
      .prefault('1s')
      .describe('Longest time a point waits for its batch to fill before the partial batch is sent.'),
  })
  .strict();

const backlogSchema = z
  .object({
    max_points: z
      .number()
      .int()
      .min(1)
      .default(500_000)
      .describe(
        'Points this tenant may have written but not yet settled. Beyond it the oldest queued writes are given up on, ' +
          'counted as failed with reason "backlog_full": a dead receiver fills only its own tenant\'s share.',
      ),
  })
  .strict();

/** Resource attributes every tenant sends unless it configures its own (OpenTelemetry's required service.name). */
export const DEFAULT_RESOURCE_ATTRIBUTES: Readonly<Record<string, string>> = { 'service.name': 'sluice' };

export const otlpSinkFields = {
  type: z.literal('otlp'),
  endpoint: httpUrl
    .optional()
    .describe(
      'Base URL of the OTLP/HTTP receiver; `/v1/metrics` is appended, as the OpenTelemetry Collector does ' +
        '(Prometheus 3.x: http://host:9090/api/v1/otlp). One of endpoint or metrics_endpoint.',
    ),
  metrics_endpoint: httpUrl.optional().describe('Full URL metrics are POSTed to, used as is; wins over endpoint.'),
  encoding: z
    .enum(['proto', 'json'])
    .default('proto')
    .describe('Request body: `proto` (application/x-protobuf, the OTLP default) or `json` (application/json).'),
  compression: z.enum(['gzip', 'none']).default('gzip').describe('Content-Encoding of the request body.'),
  resource_attributes: z
    .record(z.string().min(1), z.string())
    .default({ ...DEFAULT_RESOURCE_ATTRIBUTES })
    .describe(
      "Attributes of the Resource every request of this tenant carries (service.name, deployment.environment, ...). " +
        'Prometheus turns service.namespace/service.name into `job` and service.instance.id into `instance`.',
    ),
  headers: remoteWriteFields.headers,
  auth: remoteWriteFields.auth,
  tls: remoteWriteFields.tls,
  timeout: remoteWriteFields.timeout,
  batch: batchSchema.prefault({}).describe('How points are grouped into requests.'),
  backlog: backlogSchema.prefault({}).describe("Bound on this tenant's unsettled points."),
  retry: remoteWriteFields.retry,
};

export const otlpSinkConfigSchema = z
  .object(otlpSinkFields)
  .strict()
  .superRefine((config, ctx) => {
    const url = config.metrics_endpoint ?? config.endpoint;
    if (url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: 'set endpoint (base URL) or metrics_endpoint (full URL)' });
      return;
    }
    checkRemoteWrite({ ...config, endpoint: url }, ctx);
  });

export type OtlpSinkConfig = z.output<typeof otlpSinkConfigSchema>;

/** The URL requests go to: metrics_endpoint as is, else endpoint with `/v1/metrics` appended (one slash between). */
export function metricsUrl(config: Pick<OtlpSinkConfig, 'endpoint' | 'metrics_endpoint'>): string {
  if (config.metrics_endpoint !== undefined) return config.metrics_endpoint;
  return `${(config.endpoint ?? '').replace(/\/+$/, '')}/v1/metrics`;
}
