import type { Rejection } from '../../core/dead-letter-reason.ts';
import type { Label } from '../../core/types.ts';
import { OVERFLOW_LABEL } from '../../sinks/remote-write/series-catalog.ts';
import type { SeriesGroupPlan } from './plan.ts';

/** The longest label value accepted from a record; longer values are bad input, not labels. */
export const MAX_LABEL_VALUE_LENGTH = 1024;
// Control characters never belong in a label value; that also frees \u0000 and \u0001 for keys.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const SEPARATOR = '\u0000';
const MISSING = '\u0001';
/** Ends an overflow series' key: no tenant id or label value contains it, so no data key ends in it. */
const OVERFLOW_MARK = '\u0003';

/** The key prefix that keeps series of different groups apart. */
export function groupKeyPrefix(group: number): string {
  return `${group}\u0002`;
}

/** A series as the combiner holds it: its canonical key and its label values (shared, never changed). */
export interface SeriesId {
  readonly key: string;
  readonly values: readonly (string | undefined)[];
}

/** Reads a record's series of one group: its key and label values, or a rejection for unusable values. */
export type SeriesReader = (tenant: string, record: Record<string, unknown>) => SeriesId | Rejection;

/**
 * The series reader of one group under one key prefix, resolved once (the combiner holds one per
 * group). The canonical series key is the group's prefix, tenant and values joined by a byte no
 * value can contain, used for state, partitioning and routing alike.
 *
 * Keys of fixed groups are interned: a trie per group, prefix and tenant, one level per label,
 * keyed by the record's raw value, leads to the series' key and label values, built and checked
 * once. A record of a known series then costs one Map lookup per label and no string building or
 * copying, and its key is the same string object every time, whose hash the maps downstream have
 * cached.
 */
export function seriesReader(group: SeriesGroupPlan, prefix: string): SeriesReader {
  const dynamic = group.dynamic;
  if (dynamic) return (tenant, record) => readDynamicSeries(dynamic, prefix, tenant, record);
  const interner = internerOf(group, prefix);
  const getters = group.labelGetters;
  const last = getters.length - 1;
  return (tenant, record) => {
    let level = interner.byTenant.get(tenant);
    if (level === undefined) interner.byTenant.set(tenant, (level = new Map()));
    let node: Level | Series | undefined = level;
    for (let i = 0; i <= last; i++) {
      node = (level as Level).get(getters[i]!(record));
      if (node === undefined) return internSeries(interner, group, prefix, tenant, record);
      level = node as Level;
    }
    return last < 0 ? emptySeries(interner, prefix, tenant) : (node as Series);
  };
}

export function isSeriesId(read: SeriesId | Rejection): read is SeriesId {
  return (read as Partial<SeriesId>).key !== undefined;
}

/**
 * Reads a record's label values for one series group into `out` and returns its series key (see
 * seriesReader), or a rejection for unusable values. For callers without a reader of their own.
 */
export function readSeries(
  group: SeriesGroupPlan,
  prefix: string,
  tenant: string,
  record: Record<string, unknown>,
  out: (string | undefined)[],
): string | Rejection {
  const read = seriesReader(group, prefix)(tenant, record);
  if (!isSeriesId(read)) return read;
  const values = read.values;
  out.length = values.length;
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return read.key;
}

/**
 * The canonical key of a tenant's series of one group from its label values (as a partial
 * carries them): what seriesReader builds from a record, for stage 2, which keeps a series'
 * labels and not its key.
 */
export function seriesKeyOf(group: SeriesGroupPlan, groupIndex: number, tenant: string, values: readonly (string | undefined)[]): string {
  let key = groupKeyPrefix(groupIndex) + tenant;
  if (group.dynamic) {
    key += SEPARATOR + values[1]!;
    for (let i = 2; i < values.length; i += 2) key += SEPARATOR + values[i]! + MISSING + values[i + 1]!;
    return key;
  }
  for (const value of values) key += SEPARATOR + (value ?? MISSING);
  return key;
}

/** One level of a series trie: a label's raw value → the next level, or at the last label the series. */
type Level = Map<unknown, Level | Series>;

type Series = SeriesId;

interface Interner {
  readonly byTenant: Map<string, Level>;
  /** Series interned; at MAX_INTERNED_SERIES the trie starts over, bounding its memory under a label flood. */
  size: number;
}

/** Series keys one group keeps interned (per prefix): beyond, the trie is dropped and refilled. */
export const MAX_INTERNED_SERIES = 65_536;

const interners = new WeakMap<SeriesGroupPlan, Map<string, Interner>>();

function internerOf(group: SeriesGroupPlan, prefix: string): Interner {
  let byPrefix = interners.get(group);
  if (byPrefix === undefined) interners.set(group, (byPrefix = new Map()));
  let interner = byPrefix.get(prefix);
  if (interner === undefined) byPrefix.set(prefix, (interner = { byTenant: new Map(), size: 0 }));
  return interner;
}

/** The slow path: a series not seen yet (or not internable: a rejection). Reads, checks, builds the key, interns it. */
function internSeries(
  interner: Interner,
  group: SeriesGroupPlan,
  prefix: string,
  tenant: string,
  record: Record<string, unknown>,
): Series | Rejection {
  const getters = group.labelGetters;
  const raws = new Array<unknown>(getters.length);
  const values = new Array<string | undefined>(getters.length);
  let key = prefix + tenant;
  for (let i = 0; i < getters.length; i++) {
    const raw = (raws[i] = getters[i]!(record));
    let text: string | undefined;
    if (raw === undefined || raw === null) text = undefined;
    else if (typeof raw === 'string') text = raw === '' ? undefined : raw;
    else if (typeof raw === 'number' && Number.isFinite(raw)) text = String(raw);
    else if (typeof raw === 'boolean') text = raw ? 'true' : 'false';
    else return invalidLabel(group, i);
    if (text !== undefined && (text.length > MAX_LABEL_VALUE_LENGTH || CONTROL_CHARACTERS.test(text))) return invalidLabel(group, i);
    values[i] = text;
    key += SEPARATOR + (text ?? MISSING);
  }
  if (interner.size >= MAX_INTERNED_SERIES) {
    interner.byTenant.clear();
    interner.size = 0;
  }
  let level = interner.byTenant.get(tenant);
  if (level === undefined) interner.byTenant.set(tenant, (level = new Map()));
  const series: Series = { key, values };
  for (let i = 0; i < raws.length; i++) {
    if (i === raws.length - 1) {
      level.set(raws[i], series);
      break;
    }
    let next = level.get(raws[i]) as Level | undefined;
    if (next === undefined) level.set(raws[i], (next = new Map()));
    level = next;
  }
  interner.size++;
  return series;
}

/** A group without labels has one series per tenant, kept beside the tenant's (empty) trie. */
function emptySeries(interner: Interner, prefix: string, tenant: string): Series {
  const level = interner.byTenant.get(tenant)!;
  let series = level.get(EMPTY) as Series | undefined;
  if (series === undefined) level.set(EMPTY, (series = { key: prefix + tenant, values: [] }));
  return series;
}

const EMPTY = Symbol('no labels');

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A passthrough series: the record's own metric name and label map, validated like data. */
function readDynamicSeries(
  dynamic: NonNullable<SeriesGroupPlan['dynamic']>,
  prefix: string,
  tenant: string,
  record: Record<string, unknown>,
): SeriesId | Rejection {
  const name = dynamic.name(record);
  const labels = dynamic.labels(record);
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) return { reason: 'invalid_value', detail: 'passthrough: metric name is not a valid Prometheus name' };
  if (labels === null || typeof labels !== 'object') return { reason: 'invalid_value', detail: 'passthrough: labels are not a map' };
  const names = Object.keys(labels).filter((n) => n !== '__name__').sort();
  const out: string[] = ['__name__', name];
  let key = `${prefix}${tenant}${SEPARATOR}${name}`;
  for (const labelName of names) {
    const value = (labels as Record<string, unknown>)[labelName];
    if (value === '' || value === undefined || value === null) continue;
    if (!LABEL_NAME.test(labelName) || labelName.startsWith('__') || typeof value !== 'string' || value.length > MAX_LABEL_VALUE_LENGTH || CONTROL_CHARACTERS.test(value)) {
      return { reason: 'invalid_value', detail: `passthrough: label "${labelName.slice(0, 64)}" is not a valid label` };
    }
    out.push(labelName, value);
    key += `${SEPARATOR}${labelName}${MISSING}${value}`;
  }
  return { key, values: out };
}

function invalidLabel(group: SeriesGroupPlan, index: number): Rejection {
  return { reason: 'invalid_value', detail: `label "${group.labelNames[index]}" is not a short single-line scalar` };
}

/**
 * Names the stage-2 partition on an overflow series. Each partition decides alone which series
 * it folds (so a replay of one partition decides the same), so each has its own overflow series,
 * and Prometheus needs one writer per series: `sum without (sluice_partition)` gives the total.
 */
export const OVERFLOW_PARTITION_LABEL = 'sluice_partition';

/**
 * The series a partial of a series beyond its tenant's budget folds into: per group and tenant
 * (per metric name for passthrough), the data labels dropped and otel_metric_overflow="true"
 * added, as the sink's max_active_series and the OpenTelemetry SDK's cardinality limit do, plus
 * `sluice_partition`, the stage-2 partition that folded it, whenever one is given (stage 2
 * always gives it: each partition folds on its own share of the budget).
 */
export function overflowSeries(
  group: SeriesGroupPlan,
  groupIndex: number,
  tenant: string,
  labelValues: readonly (string | undefined)[],
  partition: string | undefined,
): { key: string; labelValues: (string | undefined)[] } {
  const prefix = groupKeyPrefix(groupIndex) + tenant;
  if (group.dynamic) {
    const name = labelValues[1]!;
    const values = ['__name__', name, OVERFLOW_LABEL, 'true'];
    if (partition !== undefined) values.push(OVERFLOW_PARTITION_LABEL, partition);
    return { key: `${prefix}${SEPARATOR}${name}${OVERFLOW_MARK}`, labelValues: values };
  }
  // The partition rides in the otherwise empty label values, so a snapshot keeps it.
  return { key: prefix + OVERFLOW_MARK, labelValues: [...group.labelNames.map(() => undefined), partition] };
}

export function isOverflowKey(key: string): boolean {
  return key.endsWith(OVERFLOW_MARK);
}

/** The series' base labels (no `__name__`), sorted by name, empty values left out. */
export function baseLabels(group: SeriesGroupPlan, values: readonly (string | undefined)[], key: string): Label[] {
  // An overflow series of a fixed group has no data labels left, only the overflow mark.
  if (!group.dynamic && isOverflowKey(key)) {
    const partition = values[group.labelNames.length];
    const labels: Label[] = [{ name: OVERFLOW_LABEL, value: 'true' }];
    if (partition !== undefined) labels.push({ name: OVERFLOW_PARTITION_LABEL, value: partition });
    return labels;
  }
  const labels: Label[] = [];
  if (group.dynamic) {
    for (let i = 0; i < values.length; i += 2) labels.push({ name: values[i]!, value: values[i + 1]! });
    return labels;
  }
  for (let i = 0; i < group.labelNames.length; i++) {
    const value = values[i];
    if (value !== undefined) labels.push({ name: group.labelNames[i]!, value });
  }
  return labels;
}
