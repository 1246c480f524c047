import type { HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { OtlpSpanRecord } from '../../../../src/codecs/otlp/span-record.ts';

/**
 * What the OTLP decoders must make of SDK spans, computed from the SDK's own `ReadableSpan`s and
 * not from any encoding, so a decoder and an encoder cannot agree on the same mistake.
 */
export function expectedSpanRecords(spans: readonly ReadableSpan[], { keepContent }: { keepContent: boolean }): OtlpSpanRecord[] {
  const keep = (attributes: Record<string, unknown>) => Object.fromEntries(Object.entries(attributes).filter(([key]) => keepContent || !CONTENT.has(key)));
  return spans.map((span) => ({
    resource: keep(span.resource.attributes) as OtlpSpanRecord['resource'],
    scope: { name: span.instrumentationScope.name, version: span.instrumentationScope.version ?? '' },
    trace_id: span.spanContext().traceId,
    span_id: span.spanContext().spanId,
    parent_span_id: span.parentSpanContext?.spanId ?? '',
    name: span.name,
    kind: ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'][span.kind]!,
    start_time_ms: Number(nanos(span.startTime) / 1_000_000n),
    end_time_ms: Number(nanos(span.endTime) / 1_000_000n),
    duration_seconds: Number(nanos(span.endTime) - nanos(span.startTime)) / 1e9,
    status_code: ['UNSET', 'OK', 'ERROR'][span.status.code]!,
    status_message: keepContent ? (span.status.message ?? '') : '', // exception text: content
    attributes: keep(span.attributes) as OtlpSpanRecord['attributes'],
    events: span.events.map((event) => ({ name: event.name, time_ms: Number(nanos(event.time) / 1_000_000n), attributes: keep(event.attributes ?? {}) as OtlpSpanRecord['attributes'] })),
  }));
}

/** The content attributes the fixture spans carry (see support/genai-spans.ts). */
const CONTENT = new Set([
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.choice.message.content',
  'gen_ai.prompt',
  'gen_ai.headers',
  'exception.message',
  'exception.stacktrace',
]);

const nanos = ([seconds, fraction]: HrTime): bigint => BigInt(seconds) * 1_000_000_000n + BigInt(fraction);

export const bySpanId = (a: Record<string, unknown>, b: Record<string, unknown>): number => String(a.span_id).localeCompare(String(b.span_id));
