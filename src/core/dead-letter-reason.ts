/**
 * Why a record was sent to the dead-letter topic. A small closed vocabulary, so that
 * `sluice_dead_letter_records_total{reason}` stays bounded and dashboards can rely on it.
 */
export const DEAD_LETTER_REASONS = [
  'oversized', // larger than source.max_message_bytes
  'malformed', // not decodable in the configured codec
  'schema', // decoded, but violates the record contract
  'no_event_time', // the event-time field is missing or not a valid time
  'unroutable', // no tenant could be resolved, or the tenant is not declared
  'invalid_value', // a metric value is not a finite number (or negative for a counter)
  'late', // older than the watermark allows, or its window has already fired
  'budget_exceeded', // its transform expressions ran over expression_budget (cost or time)
] as const;

export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** The verdict on one input record when it cannot be used. */
export interface Rejection {
  readonly reason: DeadLetterReason;
  /** A short human explanation; never the record's content. */
  readonly detail: string;
}
