import type { Decoder } from '../../codecs/decoder.ts';
import type { Sample } from '../../core/types.ts';
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

export function tapSamples(pipeline: string, tenant: string, samples: readonly Sample[]): void {
  if (!taps.wants('samples', pipeline)) return;
  for (const sample of samples) taps.offer('samples', pipeline, tenant, { tenant, sample }, sampleView);
}

/** A dead letter as its headers describe it (reasons, capped details, origin); never its bytes. */
export function tapDeadLetter(pipeline: string, headers: Readonly<Record<string, string>>): void {
  taps.offer('dead-letters', pipeline, undefined, headers, (h) => ({ ...h }));
}

/** The decoder, offering what it decodes at `decode` while someone taps it (a boolean test otherwise). */
export function tappedDecoder(pipeline: string, decoder: Decoder): Decoder {
  return {
    decode(bytes, context) {
      const outcome = decoder.decode(bytes, context);
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

const sampleView = ({ tenant, sample }: { tenant: string; sample: Sample }) => ({
  tenant,
  series: seriesText(sample),
  value: Number.isFinite(sample.value) ? sample.value : String(sample.value),
  timestamp: new Date(sample.timestampMs).toISOString(),
});

function seriesText(sample: Sample): string {
  let name = '';
  const labels: string[] = [];
  for (const { name: label, value } of sample.labels) {
    if (label === '__name__') name = value;
    else labels.push(`${label}=${JSON.stringify(value)}`);
  }
  return `${name}{${labels.join(',')}}`;
}
