import type { Ingested } from '../../runtime/ingest.ts';
import type { PartialAggregate } from '../../operators/windowed-metrics/partial.ts';
import type { Sample } from '../../core/types.ts';
import { redactRecord } from './redact.ts';
import { TAPPED, taps } from './hub.ts';
import type { Decoder } from '../../codecs/decoder.ts';

/**
 * What the runtime's one-line hooks call once the point's TAPPED flag is up: one offer per
 * record / partial / sample / dead letter, each with a lazy, redacted view. Nothing here runs
 * while nobody taps.
 */

export function tapDecoded(pipeline: string, records: readonly Record<string, unknown>[]): void {
  for (const record of records) taps.offer('decode', { pipeline, tenant: undefined, view: () => ({ record: redactRecord(record) }) });
}

export function tapIngested(pipeline: string, records: readonly Ingested[]): void {
  for (const { tenant, eventTimeMs, record } of records) {
    taps.offer('transform', { pipeline, tenant, view: () => ({ tenant, event_time: new Date(eventTimeMs).toISOString(), record: redactRecord(record) }) });
  }
}

export function tapPartial(pipeline: string, partial: PartialAggregate): void {
  taps.offer('partials', {
    pipeline,
    tenant: partial.tenant,
    view: () => ({
      tenant: partial.tenant,
      group: partial.group,
      window: [new Date(partial.start).toISOString(), new Date(partial.end).toISOString()],
      label_values: redactRecord(partial.labelValues),
    }),
  });
}

export function tapSamples(pipeline: string, tenant: string, samples: readonly Sample[]): void {
  for (const sample of samples) {
    taps.offer('samples', { pipeline, tenant, view: () => ({ tenant, series: seriesText(sample), value: Number.isFinite(sample.value) ? sample.value : String(sample.value), timestamp: new Date(sample.timestampMs).toISOString() }) });
  }
}

/** A dead letter as its headers describe it (reasons, capped details, origin); never its bytes. */
export function tapDeadLetter(pipeline: string, headers: Readonly<Record<string, string>>): void {
  taps.offer('dead-letters', { pipeline, tenant: undefined, view: () => ({ ...headers }) });
}

function seriesText(sample: Sample): string {
  let name = '';
  const labels: string[] = [];
  for (const { name: label, value } of sample.labels) {
    if (label === '__name__') name = value;
    else labels.push(`${label}=${JSON.stringify(value)}`);
  }
  return `${name}{${labels.join(',')}}`;
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
