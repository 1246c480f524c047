import type { SeriesSamples } from './prometheus.ts';

/**
 * A plain reference for what a shipped pipeline must write into each tenant's Prometheus,
 * written without any of the pipeline's code, from the README's semantics:
 *
 * - tumbling windows aligned to the epoch, samples stamped with the window end;
 * - cumulative series (counters, histogram `_bucket` / `_sum` / `_count`): a sample at every
 *   window end from the first window with data for that metric and series on, equal to the
 *   total over records with event time before that end;
 * - per-window gauges and quantiles: a sample only at the end of windows with data;
 * - label values that are empty (or null) are absent.
 */
export type Labels = Record<string, string | null | undefined>;

export interface Expected {
  /** Cumulative series: id → window end → value. `tolerant` ids (float sums) compare to 1e-9 relative. */
  readonly cumulative: Map<string, Map<number, number>>;
  /** Per-window gauges: id → window end → value. */
  readonly gauges: Map<string, { readonly tolerant: boolean; readonly windows: Map<number, number> }>;
  /** Quantile gauges: id (with `quantile`) → level and window end → the window's inputs, sorted. */
  readonly quantiles: Map<string, { readonly q: number; readonly windows: Map<number, number[]> }>;
}

type GaugeAggregate = 'avg' | 'max';

/** `name{a="x",b="y"}`, labels sorted by name, empty values left out. */
export function seriesId(name: string, labels: Labels): string {
  const body = Object.keys(labels)
    .filter((k) => k !== '__name__' && labels[k] !== undefined && labels[k] !== null && labels[k] !== '')
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
  return `${name}{${body}}`;
}

/** The id of a series as Prometheus returns it. */
export function promSeriesId(metric: Record<string, string>): string {
  const { __name__: name, ...rest } = metric;
  return seriesId(name ?? '', rest);
}

/** `_sum` series and cost counters are float sums; everything else cumulative is a count of records or integers. */
export const isFloatSum = (id: string): boolean => /_sum\{/.test(id) || /^[a-z_]*cost_total\{/.test(id);

export class WindowedOracle {
  private readonly deltas = new Map<string, Map<string, Map<number, number>>>();
  private readonly gaugeInputs = new Map<string, Map<string, { aggregate: GaugeAggregate; windows: Map<number, number[]> }>>();
  private readonly quantileInputs = new Map<string, Map<string, { q: number; windows: Map<number, number[]> }>>();
  private latestEnd = Number.NEGATIVE_INFINITY;

  constructor(readonly windowMs: number) {}

  windowEnd(eventTimeMs: number): number {
    return Math.floor(eventTimeMs / this.windowMs) * this.windowMs + this.windowMs;
  }

  /** End of the newest window that has any record. */
  get lastWindowEnd(): number {
    return this.latestEnd;
  }

  counter(tenant: string, name: string, labels: Labels, eventTimeMs: number, increment: number): void {
    this.addDelta(tenant, seriesId(name, labels), eventTimeMs, increment);
  }

  /** Prometheus histogram: a record counts in every bucket whose `le` it does not exceed. */
  histogram(tenant: string, name: string, labels: Labels, buckets: readonly number[], eventTimeMs: number, value: number): void {
    for (const le of buckets) this.addDelta(tenant, seriesId(`${name}_bucket`, { ...labels, le: String(le) }), eventTimeMs, value <= le ? 1 : 0);
    this.addDelta(tenant, seriesId(`${name}_bucket`, { ...labels, le: '+Inf' }), eventTimeMs, 1);
    this.addDelta(tenant, seriesId(`${name}_sum`, labels), eventTimeMs, value);
    this.addDelta(tenant, seriesId(`${name}_count`, labels), eventTimeMs, 1);
  }

  gauge(tenant: string, name: string, aggregate: GaugeAggregate, labels: Labels, eventTimeMs: number, value: number): void {
    const id = seriesId(name, labels);
    const series = getOrSet(getOrSet(this.gaugeInputs, tenant, () => new Map()), id, () => ({ aggregate, windows: new Map<number, number[]>() }));
    getOrSet(series.windows, this.seen(eventTimeMs), (): number[] => []).push(value);
  }

  quantiles(tenant: string, name: string, labels: Labels, levels: readonly number[], eventTimeMs: number, value: number): void {
    const tenantMap = getOrSet(this.quantileInputs, tenant, () => new Map());
    for (const q of levels) {
      const series = getOrSet(tenantMap, seriesId(name, { ...labels, quantile: String(q) }), () => ({ q, windows: new Map<number, number[]>() }));
      getOrSet(series.windows, this.seen(eventTimeMs), (): number[] => []).push(value);
    }
  }

  /** What `tenant`'s Prometheus must hold for window ends up to `lastWindowEnd`. */
  expected(tenant: string, lastWindowEnd = this.latestEnd): Expected {
    const cumulative = new Map<string, Map<number, number>>();
    for (const [id, perWindow] of this.deltas.get(tenant) ?? []) {
      const first = Math.min(...perWindow.keys());
      const values = new Map<number, number>();
      let total = 0;
      for (let end = first; end <= lastWindowEnd; end += this.windowMs) {
        total += perWindow.get(end) ?? 0;
        values.set(end, total);
      }
      cumulative.set(id, values);
    }
    const gauges = new Map<string, { tolerant: boolean; windows: Map<number, number> }>();
    for (const [id, { aggregate, windows }] of this.gaugeInputs.get(tenant) ?? []) {
      const values = new Map<number, number>();
      for (const [end, inputs] of windows) {
        values.set(end, aggregate === 'max' ? Math.max(...inputs) : inputs.reduce((a, b) => a + b, 0) / inputs.length);
      }
      gauges.set(id, { tolerant: aggregate === 'avg', windows: values });
    }
    const quantiles = new Map<string, { q: number; windows: Map<number, number[]> }>();
    for (const [id, { q, windows }] of this.quantileInputs.get(tenant) ?? []) {
      quantiles.set(id, { q, windows: new Map([...windows].map(([end, inputs]) => [end, [...inputs].sort((a, b) => a - b)])) });
    }
    return { cumulative, gauges, quantiles };
  }

  private addDelta(tenant: string, id: string, eventTimeMs: number, increment: number): void {
    const perWindow = getOrSet(getOrSet(this.deltas, tenant, () => new Map()), id, () => new Map<number, number>());
    const end = this.seen(eventTimeMs);
    perWindow.set(end, (perWindow.get(end) ?? 0) + increment);
  }

  private seen(eventTimeMs: number): number {
    const end = this.windowEnd(eventTimeMs);
    if (end > this.latestEnd) this.latestEnd = end;
    return end;
  }
}

/**
 * The exact q-quantile of a sorted window as DDSketch defines it (the value of rank
 * floor(q·(n−1)), 0-based): the sketch guarantees its estimate within the relative accuracy of it.
 */
export function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/**
 * Every difference between a tenant's stored samples (`actual`, e.g. from `querySamples` at the
 * last window end) and `expected`, one line each: series missing or unexpected, samples missing,
 * unexpected or off. Empty when they agree.
 */
export function compareTenant(actual: readonly SeriesSamples[], expected: Expected, options: { relativeAccuracy: number }): string[] {
  const problems: string[] = [];
  const got = new Map<string, Map<number, number>>();
  for (const series of actual) got.set(promSeriesId(series.metric), new Map(series.samples));
  const iso = (ms: number) => new Date(ms).toISOString();

  const compareSamples = (id: string, want: Map<number, number>, ok: (got: number, want: number) => boolean) => {
    const samples = got.get(id);
    if (!samples) return void problems.push(`missing series ${id}`);
    for (const [end, value] of want) {
      const actualValue = samples.get(end);
      if (actualValue === undefined) problems.push(`missing sample ${id} @${iso(end)} (expected ${value})`);
      else if (!ok(actualValue, value)) problems.push(`wrong value ${id} @${iso(end)}: got ${actualValue}, expected ${value}${ratio(actualValue, value)}`);
    }
    for (const [end, value] of samples) if (!want.has(end)) problems.push(`unexpected sample ${id} @${iso(end)} = ${value}`);
  };
  const exact = (a: number, b: number) => a === b;
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

  for (const [id, want] of expected.cumulative) compareSamples(id, want, isFloatSum(id) ? close : exact);
  for (const [id, { tolerant, windows }] of expected.gauges) compareSamples(id, windows, tolerant ? close : exact);
  for (const [id, { q, windows }] of expected.quantiles) {
    const samples = got.get(id);
    if (!samples) {
      problems.push(`missing series ${id}`);
      continue;
    }
    for (const [end, sorted] of windows) {
      const estimate = samples.get(end);
      const exactValue = exactQuantile(sorted, q);
      if (estimate === undefined) problems.push(`missing sample ${id} @${iso(end)} (exact ${exactValue} of ${sorted.length} values)`);
      else if (!(Math.abs(estimate - exactValue) <= options.relativeAccuracy * Math.abs(exactValue) * (1 + 1e-9))) {
        problems.push(
          `quantile out of bounds ${id} @${iso(end)}: got ${estimate}, exact ${exactValue}${ratio(estimate, exactValue)} (rank ${Math.floor(q * (sorted.length - 1))} of ${sorted.length}; ` +
            `neighbours ${sorted[Math.max(0, Math.floor(q * (sorted.length - 1)) - 1)]} .. ${sorted[Math.min(sorted.length - 1, Math.ceil(q * (sorted.length - 1)) + 1)]})`,
        );
      }
    }
    for (const [end, value] of samples) if (!windows.has(end)) problems.push(`unexpected sample ${id} @${iso(end)} = ${value}`);
  }
  const known = new Set([...expected.cumulative.keys(), ...expected.gauges.keys(), ...expected.quantiles.keys()]);
  for (const id of got.keys()) if (!known.has(id)) problems.push(`unexpected series ${id}`);
  return problems;
}

/** ` (got/expected ×r)` when both are non-zero: makes a unit error (×1000) obvious. */
function ratio(got: number, want: number): string {
  return got !== 0 && want !== 0 && Number.isFinite(got / want) ? ` (got/expected ×${Number((got / want).toPrecision(4))})` : '';
}

function getOrSet<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = create()));
  return value;
}
