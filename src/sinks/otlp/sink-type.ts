/** `type: otlp`: OTLP/HTTP metrics out (config.ts for the options, index.ts for the sink). */
import type { SinkType } from '../sink-type.ts';
import { metricsUrl, otlpSinkConfigSchema } from './config.ts';
import { OtlpSink, type OtlpTenant } from './index.ts';
import { createOtlpSinkMetrics } from './metrics.ts';

export const otlpSinkType: SinkType<typeof otlpSinkConfigSchema, OtlpTenant> = {
  type: 'otlp',
  schema: otlpSinkConfigSchema,
  access: ({ sink }) => ({ access: { ...sink, endpoint: metricsUrl(sink) }, path: ['sink'] }),
  create: ({ tenants }, { logger, registry, env, shared }) => new OtlpSink(tenants, { logger, env, events: shared('otlp', () => createOtlpSinkMetrics(registry)) }),
};
