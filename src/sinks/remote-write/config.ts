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
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

const headersSchema = z
  .record(z.string(), z.string())
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
        ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a valid HTTP header name` });
      } else if (seen.has(lower)) {
        // Header names are case-insensitive: fetch would merge both values into "a, b".
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `header "${name}" is given twice (also as "${seen.get(lower)}"); header names are case-insensitive`,
        });
      }
      if (HEADER_VALUE_FORBIDDEN.test(value)) {
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
    max_delay: durationSchema()
      .prefault('1s')
      .describe('Longest time a sample waits for its batch to fill before the partial batch is sent.'),
  })
  .strict();

const queueSchema = z
  .object({
    max_samples: z
      .number()
      .int()
      .min(1)
      .default(500_000)
      .describe(
        'Samples the tenant may have waiting (not counting the request in flight). Beyond it new samples are ' +
          'dropped and counted as failed with reason "queue_full", so a slow or down endpoint cannot exhaust memory.',
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
      .min(1)
      .default(10)
      .describe(
        'Total tries per batch, the first one included (1 = never retry). There is no "retry forever": while a ' +
          'batch is retried the tenant queue waits behind it, so a bound keeps one dead endpoint from stalling it.',
      ),
  })
  .strict()
  .refine((retry) => retry.max_backoff >= retry.initial_backoff, {
    message: 'retry.max_backoff must not be smaller than retry.initial_backoff',
    path: ['max_backoff'],
  });

export const remoteWriteConfigSchema = z
  .object({
    endpoint: z
      .url({ protocol: /^https?$/, error: 'endpoint must be an absolute http:// or https:// URL' })
      // fetch refuses URLs with user:password@ outright, so catch it here with a way out.
      .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), {
        message: 'endpoint must not embed credentials (user:password@); send them with headers: { Authorization: ... }',
      })
      .describe('Prometheus remote-write URL, e.g. http://127.0.0.1:9090/api/v1/write.'),
    headers: headersSchema
      .default({})
      .describe(
        'Extra HTTP headers for this tenant, e.g. X-Scope-OrgID or Authorization. Never logged. Cannot override ' +
          'Content-Encoding, Content-Type, X-Prometheus-Remote-Write-Version, User-Agent or the framing headers.',
      ),
    timeout: positiveDuration('timeout')
      .prefault('10s')
      .describe('Limit for one HTTP request, response body included; a timeout is retried.'),
    batch: batchSchema.prefault({}).describe('How samples are grouped into requests.'),
    queue: queueSchema.prefault({}).describe('Bound on samples waiting to be sent.'),
    retry: retrySchema.prefault({}).describe('Retries of 5xx, 429, timeouts and network errors; other 4xx are never retried.'),
  })
  .strict();

export type RemoteWriteConfig = z.output<typeof remoteWriteConfigSchema>;
