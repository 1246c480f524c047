import { z } from 'zod';

const groupingKeySchema = z
  .discriminatedUnion('from', [
    z
      .object({
        from: z
          .literal('key')
          .describe(
            'The Kafka message key is the Pushgateway push path after `/metrics/`: `job/<job>{/<label>/<value>}`, ' +
              'e.g. `job/dcgm-exporter/instance/gpu-node-17`. Segments are URL-decoded; a `@base64` suffix on a name ' +
              'marks a base64url value (the only way to give a value containing `/`, or an empty one: `=`). Keying ' +
              'messages this way also keeps each group on one partition, in order.',
          ),
      })
      .strict(),
    z
      .object({
        from: z.literal('headers').describe('Kafka headers named `<header_prefix><label>` give the grouping labels; `job` is required.'),
        header_prefix: z
          .string()
          .min(1)
          .default('grouping.')
          .describe('Prefix of the headers that carry grouping labels, e.g. `grouping.job`, `grouping.instance`; other headers are ignored.'),
      })
      .strict(),
    z.object({ from: z.literal('none').describe('No grouping key: samples keep only their own labels.') }).strict(),
  ])
  .describe('Where the Pushgateway grouping key (job, instance, ...) comes from; its labels are applied to every sample.');

export const prometheusTextDecodeConfigSchema = z
  .object({
    codec: z
      .literal('prometheus_text')
      .describe('`prometheus_text`: a Prometheus text exposition (format 0.0.4), as pushed to a Pushgateway. One record per sample.'),
    grouping_key: groupingKeySchema.default({ from: 'key' }),
    on_label_conflict: z
      .enum(['reject', 'override'])
      .default('reject')
      .describe(
        'A sample label that is also a grouping label but has another value: `reject` the message (a producer ' +
          'claiming another job or instance is a bug worth seeing), or `override` it with the grouping value, ' +
          'as the Pushgateway itself does.',
      ),
    timestamp_header: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Kafka header holding the push time as integer epoch milliseconds; samples without a timestamp of their ' +
          'own take it as `timestamp_ms`. Without it, such samples have no `timestamp_ms`.',
      ),
  })
  .strict()
  .describe('Prometheus text exposition (a Pushgateway payload) with its grouping key: one record per sample.');

export type PrometheusTextDecodeConfig = z.output<typeof prometheusTextDecodeConfigSchema>;
export type GroupingKeyConfig = PrometheusTextDecodeConfig['grouping_key'];
