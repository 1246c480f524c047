import type { Rejection } from '../../core/dead-letter-reason.ts';
import type { Label, Sample } from '../../core/types.ts';
import { TumblingWindows } from '../tumbling-window.ts';
import type { SeriesGroupPlan } from './plan.ts';
import { buildSlotLabels } from './series-labels.ts';

/** Where an operator's output goes; the runtime decides (a sink, a test's array, a repartition topic). */
export interface SampleEmitter {
  emit(tenant: string, samples: Sample[]): void;
}

export interface WindowedMetricsOptions {
  readonly windowSizeMs: number;
  readonly allowedLatenessMs: number;
}

/** The longest label value accepted from a record; longer values are bad input, not labels. */
export const MAX_LABEL_VALUE_LENGTH = 1024;
// Control characters never belong in a label value, which also frees \u0000 and \u0001 for series keys.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const KEY_SEPARATOR = '\u0000';
const MISSING_VALUE = '\u0001';

interface CumulativeSeries {
  readonly tenant: string;
  readonly values: Float64Array;
  readonly slotLabels: readonly (readonly Label[])[];
}

/** One window's deltas: per series group, series key → slot values. */
interface WindowDeltas {
  readonly groups: Map<string, { readonly tenant: string; readonly labelValues: (string | undefined)[]; readonly values: Float64Array }>[];
}

/**
 * Event-time tumbling-window aggregation into cumulative Prometheus series.
 *
 * `process` adds a record to its window; `advanceWatermark` fires every window whose end plus
 * the allowed lateness the watermark has passed, in time order, once. Firing folds the window's
 * deltas into the cumulative series and emits every known series stamped with the window end,
 * so a counter's sample at T is the total of accepted records with event time before T.
 */
export class WindowedMetricsOperator {
  private readonly windows: TumblingWindows;
  private readonly open = new Map<number, WindowDeltas>();
  private readonly cumulative: Map<string, CumulativeSeries>[];
  private watermark = Number.NEGATIVE_INFINITY;
  // Per-record scratch, reused so the hot path allocates only for new series.
  private readonly labelScratch: (string | undefined)[][];
  private readonly valueScratch: Float64Array[];

  constructor(
    private readonly groups: readonly SeriesGroupPlan[],
    private readonly options: WindowedMetricsOptions,
    private readonly emitter: SampleEmitter,
  ) {
    this.windows = new TumblingWindows(options.windowSizeMs);
    this.cumulative = groups.map(() => new Map());
    this.labelScratch = groups.map((g) => new Array<string | undefined>(g.labelNames.length));
    this.valueScratch = groups.map((g) => new Float64Array(g.metrics.length));
  }

  get currentWatermark(): number {
    return this.watermark;
  }

  /** The window a record with this event time belongs to. */
  windowStartOf(eventTimeMs: number): number {
    return this.windows.startOf(eventTimeMs);
  }

  /** Whether the window holding this event time has already fired. */
  hasFired(eventTimeMs: number): boolean {
    return this.windows.endOf(this.windows.startOf(eventTimeMs)) + this.options.allowedLatenessMs <= this.watermark;
  }

  /** Adds one record; returns a rejection (and changes nothing) if the record cannot count. */
  process(tenant: string, eventTimeMs: number, record: Record<string, unknown>): Rejection | undefined {
    if (this.hasFired(eventTimeMs)) return { reason: 'late', detail: 'its window has already fired' };
    // Read and check everything before touching state: a record counts in every metric or in none.
    for (let g = 0; g < this.groups.length; g++) {
      const rejection = this.readGroup(g, record);
      if (rejection) return rejection;
    }
    const windowStart = this.windows.startOf(eventTimeMs);
    let deltas = this.open.get(windowStart);
    if (!deltas) this.open.set(windowStart, (deltas = { groups: this.groups.map(() => new Map()) }));
    for (let g = 0; g < this.groups.length; g++) this.applyGroup(g, tenant, deltas);
    return undefined;
  }

  /** Moves the watermark forward (never back) and fires the windows it closes. */
  advanceWatermark(watermark: number): void {
    if (!(watermark > this.watermark)) return;
    this.watermark = watermark;
    const closing: number[] = [];
    for (const start of this.open.keys()) {
      if (this.windows.endOf(start) + this.options.allowedLatenessMs <= watermark) closing.push(start);
    }
    closing.sort((a, b) => a - b);
    for (const start of closing) this.fire(start);
  }

  /** Number of series with cumulative state, for self-telemetry. */
  get seriesCount(): number {
    let count = 0;
    for (const series of this.cumulative) count += series.size;
    return count;
  }

  get openWindowCount(): number {
    return this.open.size;
  }

  private readGroup(g: number, record: Record<string, unknown>): Rejection | undefined {
    const group = this.groups[g]!;
    const labels = this.labelScratch[g]!;
    for (let i = 0; i < group.labelGetters.length; i++) {
      const raw = group.labelGetters[i]!(record);
      const value = toLabelValue(raw);
      if (value === INVALID) {
        return { reason: 'invalid_value', detail: `label "${group.labelNames[i]}" is not a short single-line scalar` };
      }
      labels[i] = value;
    }
    const values = this.valueScratch[g]!;
    for (let m = 0; m < group.metrics.length; m++) {
      const metric = group.metrics[m]!;
      if (metric.kind === 'counter' && metric.value === undefined) {
        values[m] = 1;
        continue;
      }
      const raw = metric.value!(record);
      if (typeof raw !== 'number' || !Number.isFinite(raw) || (metric.kind === 'counter' && raw < 0)) {
        const expected = metric.kind === 'counter' ? 'a finite number >= 0' : 'a finite number';
        return { reason: 'invalid_value', detail: `${metric.name}: field "${metric.valueField}" is not ${expected}` };
      }
      values[m] = metric.kind === 'histogram' ? raw * metric.scale : raw;
    }
    return undefined;
  }

  private applyGroup(g: number, tenant: string, deltas: WindowDeltas): void {
    const group = this.groups[g]!;
    const labels = this.labelScratch[g]!;
    let key = tenant;
    for (let i = 0; i < labels.length; i++) key += KEY_SEPARATOR + (labels[i] ?? MISSING_VALUE);
    const seriesMap = deltas.groups[g]!;
    let series = seriesMap.get(key);
    if (!series) {
      series = { tenant, labelValues: labels.slice(), values: new Float64Array(group.slotCount) };
      seriesMap.set(key, series);
    }
    const slots = series.values;
    const values = this.valueScratch[g]!;
    for (let m = 0; m < group.metrics.length; m++) {
      const metric = group.metrics[m]!;
      const value = values[m]!;
      if (metric.kind === 'counter') {
        slots[metric.slot] = slots[metric.slot]! + value;
        continue;
      }
      const bounds = metric.bounds;
      let bucket = 0;
      while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
      slots[metric.slot + bucket] = slots[metric.slot + bucket]! + 1;
      slots[metric.slot + bounds.length + 1] = slots[metric.slot + bounds.length + 1]! + value;
      slots[metric.slot + bounds.length + 2] = slots[metric.slot + bounds.length + 2]! + 1;
    }
  }

  private fire(windowStart: number): void {
    const deltas = this.open.get(windowStart)!;
    this.open.delete(windowStart);
    for (let g = 0; g < this.groups.length; g++) {
      const cumulative = this.cumulative[g]!;
      for (const [key, delta] of deltas.groups[g]!) {
        let series = cumulative.get(key);
        if (!series) {
          series = {
            tenant: delta.tenant,
            values: new Float64Array(delta.values.length),
            slotLabels: buildSlotLabels(this.groups[g]!, delta.labelValues),
          };
          cumulative.set(key, series);
        }
        for (let s = 0; s < delta.values.length; s++) series.values[s] = series.values[s]! + delta.values[s]!;
      }
    }
    this.emitAll(this.windows.endOf(windowStart));
  }

  /** Every known series is written at every fired window, like a scrape, so lookback never hides it. */
  private emitAll(timestampMs: number): void {
    const byTenant = new Map<string, Sample[]>();
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      for (const series of this.cumulative[g]!.values()) {
        let out = byTenant.get(series.tenant);
        if (!out) byTenant.set(series.tenant, (out = []));
        for (const metric of group.metrics) {
          if (metric.kind === 'counter') {
            out.push({ labels: series.slotLabels[metric.slot]!, value: series.values[metric.slot]!, timestampMs });
            continue;
          }
          // Buckets are stored per bucket; Prometheus wants them cumulative in `le`.
          let running = 0;
          const buckets = metric.bounds.length + 1;
          for (let b = 0; b < buckets; b++) {
            running += series.values[metric.slot + b]!;
            out.push({ labels: series.slotLabels[metric.slot + b]!, value: running, timestampMs });
          }
          out.push({ labels: series.slotLabels[metric.slot + buckets]!, value: series.values[metric.slot + buckets]!, timestampMs });
          out.push({ labels: series.slotLabels[metric.slot + buckets + 1]!, value: series.values[metric.slot + buckets + 1]!, timestampMs });
        }
      }
    }
    for (const [tenant, samples] of byTenant) this.emitter.emit(tenant, samples);
  }
}

const INVALID = Symbol('invalid label value');

function toLabelValue(raw: unknown): string | undefined | typeof INVALID {
  if (raw === undefined || raw === null) return undefined;
  let text: string;
  if (typeof raw === 'string') text = raw;
  else if (typeof raw === 'number' && Number.isFinite(raw)) text = String(raw);
  else if (typeof raw === 'boolean') text = raw ? 'true' : 'false';
  else return INVALID;
  if (text === '') return undefined;
  if (text.length > MAX_LABEL_VALUE_LENGTH || CONTROL_CHARACTERS.test(text)) return INVALID;
  return text;
}
