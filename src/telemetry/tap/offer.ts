import type { Decoder } from '../../codecs/decoder.ts';
import type { MetricPoint } from '../../core/metric-model.ts';
import type { PartialAggregate } from '../../operators/windowed-metrics/partial.ts';
import type { Ingested } from '../../runtime/ingest.ts';
import { TAPPED, taps } from './hub.ts';
import { redactRecord } from './redact.ts';

/**
 * What the runtime's one-line hooks call once the point's TAPPED flag is up: one offer per
 * record / partial / sample / dead letter, with a shared view function that builds the redacted
 * event only for what a client takes. Nothing here runs while nobody taps.
 */

export function tapDecoded(pipeline: string, records: readonly Record<string, unknown>[]): void {
  if (!taps.wants('decode', pipeline)) return;
  for (const record of records) taps.offer('decode', pipeline, undefined, record, decodedView);
}

export function tapIngested(pipeline: string, records: readonly Ingested[]): void {
  if (!taps.wants('transform', pipeline)) return;
  for (const record of records) taps.offer('transform', pipeline, record.tenant, record, ingestedView);
}

export function tapPartial(pipeline: string, partial: PartialAggregate): void {
  taps.offer('partials', pipeline, partial.tenant, partial, partialView);
}

/** Stage 2's metric points, one event each (a histogram is one point, not its bucket series). */
export function tapPoints(pipeline: string, tenant: string, points: readonly MetricPoint[]): void {
  if (!taps.wants('samples', pipeline)) return;
  for (const point of points) taps.offer('samples', pipeline, tenant, { tenant, point }, pointView);
}

/** A dead letter as its headers describe it (reasons, capped details, origin); never its bytes. */
export function tapDeadLetter(pipeline: string, headers: Readonly<Record<string, string>>): void {
  taps.offer('dead-letters', pipeline, undefined, headers, (h) => ({ ...h }));
}

/**
 * The decoder, offering what it decodes at `decode` while someone taps it (a boolean test
 * otherwise). While `decode` or `transform` is tapped, messages go through `everyField`: a decoder
 * given the fields the pipeline reads leaves the others out, and the tap shows whole records.
 */
export function tappedDecoder(pipeline: string, decoder: Decoder, everyField: Decoder = decoder): Decoder {
  return {
    decode(bytes, context) {
      if (!TAPPED.decode && !TAPPED.transform) return decoder.decode(bytes, context);
      const outcome = everyField.decode(bytes, context);
      if (TAPPED.decode && outcome.ok) tapDecoded(pipeline, outcome.records);
      return outcome;
    },
  };
}

const decodedView = (record: Record<string, unknown>) => ({ record: redactRecord(record) });

const ingestedView = ({ tenant, eventTimeMs, record }: Ingested) => ({ tenant, event_time: new Date(eventTimeMs).toISOString(), record: redactRecord(record) });

const partialView = (partial: PartialAggregate) => ({
  tenant: partial.tenant,
  group: partial.group,
  window: [new Date(partial.start).toISOString(), new Date(partial.end).toISOString()],
  label_values: redactRecord(partial.labelValues),
});

const pointView = ({ tenant, point }: { tenant: string; point: MetricPoint }) => ({
  tenant,
  series: seriesText(point),
  type: point.metric.type,
  value: valueView(point.value),
  timestamp: new Date(point.timestampMs).toISOString(),
  ...(point.startTimestampMs !== undefined ? { start: new Date(point.startTimestampMs).toISOString() } : {}),
});

/** JSON-safe: non-finite numbers as text, a stale point as "stale". */
function valueView(value: MetricPoint['value']): unknown {
  if (value === undefined) return 'stale';
  if (typeof value === 'number') return numberView(value);
  if ('bucketCounts' in value) return { bounds: value.bounds, bucket_counts: value.bucketCounts, sum: numberView(value.sum), count: value.count };
  return { quantiles: value.quantiles.map((q) => ({ quantile: q.quantile, value: numberView(q.value) })), sum: numberView(value.sum), count: value.count };
}

function numberView(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function seriesText(point: MetricPoint): string {
  return `${point.metric.name}{${point.labels.map(({ name, value }) => `${name}=${JSON.stringify(value)}`).join(',')}}`;
}
