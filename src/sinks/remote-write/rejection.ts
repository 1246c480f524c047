/**
 * Classifies a receiver's 400 answer into a low-cardinality reason, from the
 * error text the common receivers send:
 *
 * - Prometheus (storage errors, web/api/v1 remote-write handler):
 *   "out of order sample", "out of bounds", "duplicate sample for timestamp",
 *   and with out-of-order ingestion enabled "too old sample".
 * - Mimir / Cortex: "err-mimir-sample-out-of-order", "err-mimir-sample-timestamp-too-old",
 *   "err-mimir-sample-duplicate-timestamp", "the sample has been rejected because its timestamp is too old",
 *   "duplicate sample for timestamp", "out of order sample", "label value too long" …
 * - VictoriaMetrics accepts out-of-order, old and duplicate samples (it drops
 *   samples outside its retention with a warning and answers 204); its 400s
 *   are about undecodable requests: "cannot decompress", "cannot unmarshal",
 *   "too big packet size".
 *
 * Only the first three reasons are properties of single samples that
 * bisecting can isolate; `malformed` and `bad_request` describe the request.
 */
export type RejectionReason = 'out_of_order' | 'out_of_bounds' | 'duplicate' | 'malformed' | 'bad_request';

const RULES: readonly (readonly [RegExp, RejectionReason])[] = [
  [/duplicate[ _-]?(sample|timestamp)|sample-duplicate-timestamp/i, 'duplicate'],
  [/out of bounds|too[ _-]old|too far in (the )?past|out[ _-]of[ _-]bounds|outside (of )?(the )?retention/i, 'out_of_bounds'],
  [/out[ _-]of[ _-]order/i, 'out_of_order'],
  [/cannot (decompress|unmarshal|parse|decode)|snappy|protobuf|unexpected EOF|too big (packet|request)/i, 'malformed'],
];

export function classifyRejection(errorText: string): RejectionReason {
  for (const [pattern, reason] of RULES) if (pattern.test(errorText)) return reason;
  return 'bad_request';
}

/** Reasons that belong to individual samples, so a bisected batch can still deliver the rest. */
export function isPerSampleRejection(reason: RejectionReason): boolean {
  return reason === 'out_of_order' || reason === 'out_of_bounds' || reason === 'duplicate';
}
