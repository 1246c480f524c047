/**
 * One tenant's remote-write endpoint, as written in the pipeline YAML.
 * Durations are strings in YAML (`10s`) and milliseconds after parsing.
 */
import { z } from 'zod';
import { durationSchema } from '../../core/duration.ts';

/**
 * Headers the sink sets itself. The first four are what makes the body a
 * remote-write request; the rest describe the HTTP framing and connection,
 * which fetch owns (overriding them breaks the request or fetch throws).
 */
export const RESERVED_HEADERS: ReadonlyMap<string, string> = new Map([
  ['content-encoding', 'Content-Encoding'],
  ['content-type', 'Content-Type'],
  ['x-prometheus-remote-write-version', 'X-Prometheus-Remote-Write-Version'],
  ['user-agent', 'User-Agent'],
  ['content-length', 'Content-Length'],
  ['transfer-encoding', 'Transfer-Encoding'],
  ['connection', 'Connection'],
  ['host', 'Host'],
]);

// RFC 9110 token: anything else makes fetch throw on every request.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values may not contain CR, LF or NUL (header injection / fetch TypeError).
export const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as ACME_REMOTE_WRITE_TOKEN');

/** A header value: literal text, or `{ value_from_env: NAME }` for a secret read from the environment at start-up. */
const headerValueSchema = z.union([
  z.string().describe('Literal header value (not for secrets: pipeline files are not secret).'),
  z
    .object({
      value_from_env: envVarName.describe('Environment variable holding the value; read once at start-up, never logged.'),
    })
    .strict()
    .describe('A header value taken from the environment.'),
]);

const headersSchema = z
  .record(z.string(), headerValueSchema)
  .superRefine((headers, ctx) => {
    const seen = new Map<string, string>();
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      const reserved = RESERVED_HEADERS.get(lower);
      if (reserved !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `header "${name}" cannot be set: the remote-write sink sets ${reserved} itself`,
        });
      } else if (!HEADER_NAME.test(name)) {
        // The path names the header; the message does not repeat it (it may come from the environment).
        ctx.addIssue({ code: 'custom', path: [name], message: "not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)" });
      } else if (seen.has(lower)) {
        // Header names are case-insensitive: fetch would merge both values into "a, b".
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `header "${name}" is given twice (also as "${seen.get(lower)}"); header names are case-insensitive`,
        });
      }
      if (typeof value === 'string' && HEADER_VALUE_FORBIDDEN.test(value)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `header "${name}" has a value containing CR, LF or NUL` });
      }
      seen.set(lower, name);
    }
  });

const positiveDuration = (what: string) =>
  durationSchema().refine((ms) => ms > 0, `${what} must be greater than zero`);

const batchSchema = z
  .object({
    max_samples: z
      .number()
      .int()
      .min(1)
      .default(2000)
      .describe('Largest number of samples sent in one request.'),
    max_bytes: z
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 * 1024)
      .describe('Largest uncompressed request size in bytes (estimated from label and sample sizes); a batch is cut when it is reached.'),
    max_delay: durationSchema()
      .prefault('1s')
      .describe('Longest time a sample waits for its batch to fill before the partial batch is sent.'),
  })
  .strict();

const backlogSchema = z
  .object({
    max_samples: z
      .number()
      .int()
      .min(1)
      .default(500_000)
      .describe(
        'Samples this tenant may have written but not yet settled (queued or in flight). Reaching it applies `policy`, ' +
          'so a slow or dead receiver fills only its own tenant\'s share.',
      ),
    policy: z
      .enum(['block', 'drop_oldest'])
      .default('block')
      .describe(
        '`block`: keep everything and report the tenant as blocked, so the runtime pauses only what feeds it. ' +
          '`drop_oldest`: drop the oldest queued samples to make room, counted as failed with reason "backlog_full" and logged.',
      ),
  })
  .strict();

const retrySchema = z
  .object({
    initial_backoff: positiveDuration('retry.initial_backoff')
      .prefault('100ms')
      .describe('Backoff ceiling before the first retry; doubles after each failed try (full jitter below it).'),
    max_backoff: positiveDuration('retry.max_backoff')
      .prefault('10s')
      .describe('Upper bound of the backoff ceiling. A larger Retry-After from the server is still honoured.'),
    max_attempts: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe(
        'Total tries per batch, the first one included (1 = never retry); 0 (the default) retries until delivered, ' +
          'as Prometheus does. Only the tenant\'s own shard waits meanwhile; its backlog bound and policy cap the cost.',
      ),
  })
  .strict()
  .refine((retry) => retry.max_backoff >= retry.initial_backoff, {
    message: 'retry.max_backoff must not be smaller than retry.initial_backoff',
    path: ['max_backoff'],
  });

const authSchema = z
  .object({
    bearer_token_env: envVarName
      .optional()
      .describe('Send `Authorization: Bearer <token>` with the token read from this environment variable.'),
    basic: z
      .object({
        username: z.string().min(1).describe('Basic-auth user name.'),
        password_env: envVarName.describe('Environment variable holding the basic-auth password.'),
      })
      .strict()
      .optional()
      .describe('HTTP basic auth; the password is read from the environment.'),
  })
  .strict()
  .refine((auth) => !(auth.bearer_token_env !== undefined && auth.basic !== undefined), {
    message: 'auth takes one of bearer_token_env or basic, not both',
  });

const tlsSchema = z
  .object({
    ca_file: z.string().min(1).optional().describe('PEM file of the CA(s) that sign the receiver\'s certificate (default: the system CAs).'),
    cert_file: z.string().min(1).optional().describe('PEM client certificate, for mutual TLS (with key_file).'),
    key_file: z.string().min(1).optional().describe('PEM private key of cert_file.'),
    server_name: z.string().min(1).optional().describe('Name to verify the certificate against (SNI), if not the endpoint\'s host.'),
    insecure_skip_verify: z
      .boolean()
      .default(false)
      .describe('Do not verify the receiver\'s certificate. For tests only: it allows anyone in the path to read the data.'),
  })
  .strict()
  .refine((tls) => (tls.cert_file === undefined) === (tls.key_file === undefined), {
    message: 'tls.cert_file and tls.key_file go together',
  });

/** The remote-write fields; shared by a tenant entry and the default route (src/tenancy/config.ts). */
export const remoteWriteFields = {
  endpoint: z
    .url({ protocol: /^https?$/, error: 'endpoint must be an absolute http:// or https:// URL' })
    // The HTTP client sends to the URL's origin, which would drop user:password@ silently: refuse it here, with a way out.
    .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), {
      message: 'endpoint must not embed credentials (user:password@); use auth: { basic: ... } or auth: { bearer_token_env: ... }',
    })
    .describe('Prometheus remote-write URL, e.g. http://127.0.0.1:9090/api/v1/write.'),
  headers: headersSchema
    .default({})
    .describe(
      'Extra HTTP headers, e.g. X-Scope-OrgID; a value may be `{ value_from_env: NAME }`. Never logged. Cannot override ' +
        'Content-Encoding, Content-Type, X-Prometheus-Remote-Write-Version, User-Agent or the framing headers.',
    ),
  auth: authSchema.optional().describe('Credentials, read from the environment at start-up; never logged or shown.'),
  tls: tlsSchema.optional().describe('TLS settings for an https:// endpoint.'),
  timeout: positiveDuration('timeout')
    .prefault('10s')
    .describe('Limit for one HTTP request, response body included; a timeout is retried.'),
  shards: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(4)
    .describe(
      'Parallel requests for this tenant. A series always maps to the same shard (hash of its labels) and a shard ' +
        'has one request in flight, so each series\' samples arrive in timestamp order.',
    ),
  protocol: z
    .enum(['v1', 'v2', 'auto'])
    .default('v1')
    .describe(
      'Wire protocol. `v1`: remote-write 1.0 (prometheus.WriteRequest), which every receiver takes. `v2`: remote-write 2.0 ' +
        '(io.prometheus.write.v2.Request: interned strings, metadata from the metric\'s type, help and unit, start timestamps ' +
        'on counters and histograms; Prometheus 3.x with its 2.0 receiver enabled, Mimir). `auto`: send 2.0 and, the first time ' +
        'the receiver answers 415 or confirms nothing written, fall back to 1.0 for this tenant (logged once, counted in ' +
        'sluice_remote_write_protocol_fallbacks_total).',
    ),
  histograms: z
    .enum(['classic', 'native_custom_buckets'])
    .default('classic')
    .describe(
      'How histogram metrics are sent. `classic`: `_bucket{le}`, `_sum` and `_count` series. `native_custom_buckets`: with ' +
        'remote-write 2.0, each histogram point is one series carrying a native histogram with custom buckets (NHCB, schema ' +
        '-53: the configured bounds, integer bucket counts, sum, count and start timestamp); the receiver must store native ' +
        'histograms (Prometheus 3.x, Mimir). Whenever a request goes out as 1.0 (`protocol: v1`, or `auto` after falling ' +
        'back) histograms are sent classic. Allow/deny patterns and max_active_series then see one series per histogram, ' +
        'named without a suffix.',
    ),
  batch: batchSchema.prefault({}).describe('How samples are grouped into requests (per shard).'),
  backlog: backlogSchema.prefault({}).describe('Bound on this tenant\'s unsettled samples, and what happens at it.'),
  retry: retrySchema.prefault({}).describe('Retries of 5xx, 429, timeouts and network errors; other 4xx are never retried (400 is bisected).'),
};

/** Cross-field checks shared by every schema built from remoteWriteFields. */
export function checkRemoteWrite(
  config: { endpoint: string; headers: Record<string, unknown>; auth?: { bearer_token_env?: string; basic?: unknown } | undefined; tls?: unknown },
  ctx: z.RefinementCtx,
): void {
  if (config.tls !== undefined && !config.endpoint.toLowerCase().startsWith('https:')) {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls is set but endpoint is not an https:// URL' });
  }
  const auth = config.auth;
  if (auth !== undefined && (auth.bearer_token_env !== undefined || auth.basic !== undefined)) {
    const authorization = Object.keys(config.headers).find((name) => name.toLowerCase() === 'authorization');
    if (authorization !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['headers', authorization],
        message: `header "${authorization}" conflicts with auth; set the credentials in one place`,
      });
    }
  }
}

export const remoteWriteConfigSchema = z.object(remoteWriteFields).strict().superRefine(checkRemoteWrite);

export type RemoteWriteConfig = z.output<typeof remoteWriteConfigSchema>;
export type RemoteWriteAuthConfig = z.output<typeof authSchema>;
export type RemoteWriteTlsConfig = z.output<typeof tlsSchema>;
export type HeaderValueConfig = z.output<typeof headerValueSchema>;
