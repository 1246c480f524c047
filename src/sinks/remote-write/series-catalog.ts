/**
 * A tenant's view of its series: the "normalise → limit" stages of the sink.
 *
 * For each label array the runtime hands in, the catalog decides once — and
 * caches in a WeakMap keyed by that array — whether it is sent (and as which
 * canonical series: validated, sorted, the tenant's extra labels merged in,
 * its key and shard), rejected (invalid) or filtered out (allow/deny list).
 * The operators build a series' label arrays once and reuse them every
 * window, so the per-sample cost is one WeakMap lookup and a flag check; no
 * key string, regex or label copy per sample.
 *
 * It also tracks the active series for `limits.max_active_series`: a new
 * series beyond the limit is folded into an overflow series, as the
 * OpenTelemetry SDK's cardinality limit does (every label but `__name__` and
 * `le` replaced by otel_metric_overflow="true"). Admission is per *group*
 * (labels without `le`, name without `_bucket`/`_sum`/`_count`), so a
 * histogram is admitted or folded as a whole and never half-broken; the count
 * may therefore exceed the limit by one histogram's series. Series expire
 * after `series_ttl` without a sample, or at once when sent a stale marker,
 * so memory follows active series.
 */
import type { Label } from '../../core/types.ts';
import { encodedLabels } from './wire.ts';
import { labelValue, normalizeLabels, seriesKey, shardOf } from './series.ts';
import type { LabelLimits } from './series.ts';
import { OVERFLOW_LABEL } from '../../core/series-labels.ts';
import type { OrderSlot } from './series-order.ts';

export { OVERFLOW_LABEL };

/** One series being sent: canonical labels and where it goes. */
export interface SeriesRef {
  readonly labels: readonly Label[];
  readonly key: string;
  readonly shard: number;
  /** Its labels as remote-write 1.0 encodes them (encodedLabels), made once. */
  readonly labelBytes: Buffer;
  /** Estimated request bytes of one sample of this series (labels + sample). */
  readonly bytes: number;
  /** Admission group, when a series limit applies. */
  readonly group: AdmissionGroup | undefined;
  /** True for an overflow series (not counted against the limit). */
  readonly overflow: boolean;
  /** Whether the catalog still tracks it (false once expired or ended). */
  active: boolean;
  lastSeenMs: number;
  /** Its rank in the key order of the requests that carry it (series-order.ts), once ranked. */
  order: OrderSlot | undefined;
}

interface AdmissionGroup {
  readonly key: string;
  members: number;
}

/** What a label array resolves to; cached per array. */
export type Resolution = SeriesResolution | RejectedResolution | FilteredResolution;

export interface SeriesResolution {
  readonly kind: 'series';
  readonly labels: readonly Label[];
  readonly key: string;
  readonly shard: number;
  readonly labelBytes: Buffer;
  readonly bytes: number;
  readonly groupKey: string | undefined;
  /** The tracked series, if currently active. */
  series: SeriesRef | undefined;
  /** Where samples go when the series is not admitted; resolved on first need. */
  overflowTo: SeriesRef | undefined;
}

export interface RejectedResolution {
  readonly kind: 'rejected';
  readonly reason: string;
}

export interface FilteredResolution {
  readonly kind: 'filtered';
}

const FILTERED: FilteredResolution = { kind: 'filtered' };

/** Fixed per-sample protobuf overhead: Sample message (≤ 21 bytes) plus slack for the series framing. */
const SAMPLE_BYTES = 24;

export interface SeriesCatalogOptions {
  readonly shards: number;
  /** Sorted extra labels; they win over data labels. */
  readonly extraLabels: readonly Label[];
  readonly allow: readonly RegExp[];
  readonly deny: readonly RegExp[];
  readonly maxActiveSeries: number | undefined;
  readonly seriesTtlMs: number;
  readonly labelLimits: LabelLimits;
}

export class SeriesCatalog {
  private readonly resolutions = new WeakMap<readonly Label[], Resolution>();
  private readonly resolutionLists = new WeakMap<readonly (readonly Label[])[], readonly Resolution[]>();
  private readonly active = new Map<string, SeriesRef>();
  private readonly overflowSeries = new Map<string, SeriesRef>();
  private readonly groups = new Map<string, AdmissionGroup>();
  /** Metric name → sent? Bounded by the number of distinct names, which the pipeline config fixes. */
  private readonly nameAllowed = new Map<string, boolean>();
  private readonly filtering: boolean;

  constructor(private readonly options: SeriesCatalogOptions) {
    this.filtering = options.allow.length > 0 || options.deny.length > 0;
  }

  /** Series currently counted as active (overflow series excluded). */
  get activeSeries(): number {
    return this.active.size;
  }

  get overflowSeriesCount(): number {
    return this.overflowSeries.size;
  }

  /** Resolves a label array (cached by identity). */
  resolve(labels: readonly Label[]): Resolution {
    let resolution = this.resolutions.get(labels);
    if (resolution === undefined) {
      resolution = this.compute(labels);
      this.resolutions.set(labels, resolution);
    }
    return resolution;
  }

  /**
   * Resolves every label set of a point's series (SampleFlattener.seriesOf), cached by the
   * identity of that list, which the flattener keeps per series: one lookup per point.
   */
  resolveAll(series: readonly (readonly Label[])[]): readonly Resolution[] {
    let resolutions = this.resolutionLists.get(series);
    if (resolutions === undefined) {
      resolutions = series.map((labels) => this.resolve(labels));
      this.resolutionLists.set(series, resolutions);
    }
    return resolutions;
  }

  /**
   * The series a sample of `resolution` goes to at `nowMs`: its own (admitted
   * now or earlier), or undefined when it must be folded into overflow.
   */
  admit(resolution: SeriesResolution, nowMs: number): SeriesRef | undefined {
    const tracked = resolution.series;
    if (tracked !== undefined && tracked.active) {
      tracked.lastSeenMs = nowMs;
      return tracked;
    }
    // Another label array may already have brought this series in.
    let series = this.active.get(resolution.key);
    if (series === undefined) {
      const max = this.options.maxActiveSeries;
      let group: AdmissionGroup | undefined;
      if (max !== undefined) {
        group = this.groups.get(resolution.groupKey!);
        if (group === undefined) {
          if (this.active.size >= max) return undefined;
          group = { key: resolution.groupKey!, members: 0 };
          this.groups.set(group.key, group);
        }
        group.members++;
      }
      series = newRef(resolution, group, false);
      this.active.set(series.key, series);
    }
    series.lastSeenMs = nowMs;
    resolution.series = series;
    return series;
  }

  /** The active series of a resolution, without admitting it. */
  find(resolution: SeriesResolution): SeriesRef | undefined {
    const tracked = resolution.series;
    if (tracked !== undefined && tracked.active) return tracked;
    const series = this.active.get(resolution.key);
    if (series !== undefined) resolution.series = series;
    return series;
  }

  /** The overflow series for a resolution that was not admitted. */
  overflowFor(resolution: SeriesResolution, nowMs: number): SeriesRef | RejectedResolution {
    let target = resolution.overflowTo;
    if (target === undefined || !target.active) {
      const name = labelValue(resolution.labels, '__name__')!;
      const le = labelValue(resolution.labels, 'le');
      const labels: Label[] = [{ name: '__name__', value: name }];
      if (le !== undefined) labels.push({ name: 'le', value: le });
      labels.push({ name: OVERFLOW_LABEL, value: 'true' });
      const normalized = normalizeLabels(labels, this.options.extraLabels, this.options.labelLimits);
      if (typeof normalized === 'string') return { kind: 'rejected', reason: normalized };
      const key = seriesKey(normalized);
      target = this.overflowSeries.get(key);
      if (target === undefined) {
        target = newRef(encodedSeries(normalized, key, this.options.shards), undefined, true);
        this.overflowSeries.set(key, target);
      }
      resolution.overflowTo = target;
    }
    target.lastSeenMs = nowMs;
    return target;
  }

  /** Stops tracking a series (it was sent a stale marker). */
  forget(series: SeriesRef): void {
    if (!series.active) return;
    series.active = false;
    if (series.overflow) {
      this.overflowSeries.delete(series.key);
      return;
    }
    this.active.delete(series.key);
    const group = series.group;
    if (group !== undefined && --group.members === 0) this.groups.delete(group.key);
  }

  /** Forgets series with no sample since `nowMs - series_ttl`. Returns how many. */
  expire(nowMs: number): number {
    const cutoff = nowMs - this.options.seriesTtlMs;
    let expired = 0;
    for (const series of this.active.values()) {
      if (series.lastSeenMs < cutoff) {
        this.forget(series);
        expired++;
      }
    }
    for (const series of this.overflowSeries.values()) {
      if (series.lastSeenMs < cutoff) this.forget(series);
    }
    return expired;
  }

  private compute(labels: readonly Label[]): Resolution {
    const normalized = normalizeLabels(labels, this.options.extraLabels, this.options.labelLimits);
    if (typeof normalized === 'string') return { kind: 'rejected', reason: normalized };
    if (this.filtering && !this.allowed(labelValue(normalized, '__name__')!)) return FILTERED;
    return {
      kind: 'series',
      ...encodedSeries(normalized, seriesKey(normalized), this.options.shards),
      groupKey: this.options.maxActiveSeries === undefined ? undefined : admissionGroupKey(normalized),
      series: undefined,
      overflowTo: undefined,
    };
  }

  private allowed(name: string): boolean {
    let allowed = this.nameAllowed.get(name);
    if (allowed === undefined) {
      const { allow, deny } = this.options;
      allowed = (allow.length === 0 || allow.some((re) => re.test(name))) && !deny.some((re) => re.test(name));
      this.nameAllowed.set(name, allowed);
    }
    return allowed;
  }
}

type SeriesIdentity = Pick<SeriesResolution, 'labels' | 'key' | 'shard' | 'labelBytes' | 'bytes'>;

/** What a series' every sample shares: its labels, key and shard, and its labels encoded once. */
function encodedSeries(labels: readonly Label[], key: string, shards: number): SeriesIdentity {
  const labelBytes = encodedLabels(labels);
  return { labels, key, shard: shardOf(key, shards), labelBytes, bytes: labelBytes.length + SAMPLE_BYTES };
}

function newRef(
  resolution: SeriesIdentity,
  group: AdmissionGroup | undefined,
  overflow: boolean,
): SeriesRef {
  return {
    labels: resolution.labels,
    key: resolution.key,
    shard: resolution.shard,
    labelBytes: resolution.labelBytes,
    bytes: resolution.bytes,
    group,
    overflow,
    active: true,
    lastSeenMs: 0,
    order: undefined,
  };
}

/** A one-off series for a stale marker of a series this process never tracked. */
export function untrackedRef(resolution: SeriesResolution): SeriesRef {
  const ref = newRef(resolution, undefined, false);
  ref.active = false;
  return ref;
}

const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Series that are admitted together: one histogram's _bucket/_sum/_count series of one label set. */
export function admissionGroupKey(labels: readonly Label[]): string {
  const flat: string[] = [];
  for (const { name, value } of labels) {
    if (name === 'le') continue;
    flat.push(name, name === '__name__' ? value.replace(HISTOGRAM_SUFFIX, '') : value);
  }
  return JSON.stringify(flat);
}

/** Compiles allow/deny patterns the way Prometheus relabelling anchors them. */
export function compileMetricPatterns(patterns: readonly string[]): RegExp[] {
  return patterns.map((pattern) => new RegExp(`^(?:${pattern})$`, 'u'));
}
