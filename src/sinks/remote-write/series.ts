/**
 * Series identity for the sink: label-set validation and normalisation, the
 * canonical series key, and the stable series → shard mapping. Everything
 * here runs once per *series* (results are cached by the tenant's series
 * catalog), never once per sample.
 */
import type { Label } from '../../core/types.ts';

export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
// In a `u` regex a surrogate *pair* is one code point, so this only matches
// unpaired halves: strings with no valid UTF-8 form. On the wire they would
// become invalid bytes and the receiver would refuse the whole request.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export interface LabelLimits {
  /** Longest label name, in UTF-8 bytes. */
  readonly maxNameBytes: number;
  /** Longest label value, in UTF-8 bytes (VictoriaMetrics would truncate, merging series; Mimir refuses). */
  readonly maxValueBytes: number;
  /** Most labels per series, __name__ and the tenant's extra labels included. */
  readonly maxLabels: number;
}

export const DEFAULT_LABEL_LIMITS: LabelLimits = { maxNameBytes: 1024, maxValueBytes: 2048, maxLabels: 30 };

const byName = (a: Label, b: Label): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function utf8TooLong(text: string, max: number): boolean {
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long strings need counting.
  if (text.length * 3 <= max) return false;
  return text.length > max || Buffer.byteLength(text, 'utf8') > max;
}

/**
 * Checks a label set and returns the one to send, or why it cannot be sent.
 *
 * - names must match [a-zA-Z_][a-zA-Z0-9_]*, be unique, and the metric name valid;
 * - an empty value means "no such label" in Prometheus, so it is dropped;
 * - labels are sorted by name (a copy is made only if they were not);
 * - `extra` (sorted, the tenant's extra labels) is merged in and WINS over a
 *   data label of the same name: data can never relabel itself into another
 *   tenant's identity;
 * - values must be valid UTF-8 and within the limits.
 *
 * Returns the input array itself when nothing changes, so identity-keyed
 * caches keep working. Label values need no escaping: remote write carries
 * them as length-delimited protobuf strings, so quotes, braces or newlines in
 * a value can never start another label or another series.
 */
export function normalizeLabels(
  labels: readonly Label[],
  extra: readonly Label[],
  limits: LabelLimits = DEFAULT_LABEL_LIMITS,
): readonly Label[] | string {
  let out: Label[] | undefined;
  let sorted = true;
  let previous: string | undefined;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    const { name, value } = label;
    if (!LABEL_NAME.test(name)) return `label name ${JSON.stringify(name)} is invalid`;
    if (utf8TooLong(name, limits.maxNameBytes)) return `label name is longer than ${limits.maxNameBytes} bytes`;
    if (previous !== undefined && name <= previous) {
      if (name === previous) return `duplicate label name ${JSON.stringify(name)}`;
      sorted = false;
    }
    previous = name;
    if (value === '') {
      out ??= labels.slice(0, i);
      continue;
    }
    if (LONE_SURROGATE.test(value)) return `label ${JSON.stringify(name)} has a value that is not valid UTF-8`;
    if (utf8TooLong(value, limits.maxValueBytes)) return `label ${JSON.stringify(name)} has a value longer than ${limits.maxValueBytes} bytes`;
    if (name === '__name__' && !METRIC_NAME.test(value)) return `metric name ${JSON.stringify(value)} is invalid`;
    out?.push(label);
  }
  let result: readonly Label[] = out ?? labels;
  if (!sorted) {
    const copy = result.slice().sort(byName);
    for (let i = 1; i < copy.length; i++) {
      if (copy[i]!.name === copy[i - 1]!.name) return `duplicate label name ${JSON.stringify(copy[i]!.name)}`;
    }
    result = copy;
  }
  if (extra.length > 0) result = mergeExtra(result, extra);
  if (labelValue(result, '__name__') === undefined) return 'missing __name__ label';
  if (result.length > limits.maxLabels) return `more than ${limits.maxLabels} labels`;
  return result;
}

/** Merges two sorted label lists; on equal names the `extra` label wins. */
function mergeExtra(data: readonly Label[], extra: readonly Label[]): Label[] {
  const out: Label[] = [];
  let i = 0;
  let j = 0;
  while (i < data.length || j < extra.length) {
    const a = data[i];
    const b = extra[j];
    if (b === undefined || (a !== undefined && a.name < b.name)) {
      out.push(a!);
      i++;
    } else {
      if (a !== undefined && a.name === b.name) i++;
      out.push(b);
      j++;
    }
  }
  return out;
}

/**
 * Canonical key of a (normalised) label set: the JSON of its flattened
 * name/value list. JSON string encoding is injective, so no two label sets
 * share a key whatever their values contain (unlike a separator-joined key).
 */
export function seriesKey(labels: readonly Label[]): string {
  const flat: string[] = new Array(labels.length * 2);
  for (let i = 0; i < labels.length; i++) {
    flat[2 * i] = labels[i]!.name;
    flat[2 * i + 1] = labels[i]!.value;
  }
  return JSON.stringify(flat);
}

/**
 * Stable shard of a series: FNV-1a (32-bit) of its key, modulo the shard
 * count. Deterministic across processes and restarts (no random seed), so a
 * replay routes each series to the same shard, and a series always has one
 * request in flight at most, which keeps its timestamps in order.
 */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** Value of `name` in a sorted label list, or undefined. */
export function labelValue(labels: readonly Label[], name: string): string | undefined {
  for (let i = 0; i < labels.length; i++) if (labels[i]!.name === name) return labels[i]!.value;
  return undefined;
}
