import { seriesId } from '../series-id.ts';
import { EO_RULES, type EventTimeRules, type ProducedRecord } from './dataset.ts';

/**
 * A plain, offline reference computation of what test/fixtures/pipelines/exactly-once.yaml must
 * deliver for a production sequence (DESIGN §2–3), written without any of the engine's code:
 *
 * - a record is late iff its event time is older than the newest event time seen *before* it on
 *   its own partition minus max_out_of_orderness minus allowed_lateness; late records go to the
 *   DLQ and count nowhere, every other record counts;
 * - tumbling windows aligned to the epoch; a record belongs to [floor(ts/W)·W, +W), stamped with
 *   the window end;
 * - cumulative series (counters, histogram buckets/_sum/_count): the sample at window end T is the
 *   total over accepted records with ts < T;
 * - window gauges (quantiles, distinct users, max latency) per (tenant, model, window) from the
 *   window's accepted records only.
 */

/** The metrics of the fixture pipeline, as the oracle needs them. */
export const EO_METRICS = {
  requests: 'eo_requests_total',
  tokens: 'eo_tokens_total',
  histogram: 'eo_latency_seconds',
  quantiles: 'eo_latency_ms',
  distinct: 'eo_distinct_users',
  max: 'eo_latency_max_ms',
  buckets: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] as readonly number[],
  scale: 0.001,
  quantileLevels: [0.5, 0.9, 0.99] as readonly number[],
  relativeAccuracy: 0.01,
  hllPrecision: 14,
} as const;

export interface LateRecord {
  id: string;
  partition: number;
  /** Offset on the partition, counting from 0 (the topic is created empty for each scenario). */
  offset: number;
  ts: number;
}

/** A cumulative series: its final total and its value at any window end. */
export interface CumulativeSeries {
  labels: Record<string, string>;
  /** True for `_sum` (a float sum, compared with a relative tolerance). */
  float: boolean;
  total: number;
  /** Window ends (ascending) where the series got records, and the running total after each. */
  ends: number[];
  running: number[];
}

export interface WindowStats {
  /** Accepted latencies of the window, ascending. */
  latencies: number[];
  distinctUsers: number;
  maxLatency: number;
}

export interface TenantOracle {
  accepted: number;
  /** seriesId → series, for eo_requests_total, eo_tokens_total and eo_latency_seconds_{bucket,sum,count}. */
  cumulative: Map<string, CumulativeSeries>;
  /** model → window end → stats, for the window gauges. */
  windows: Map<string, Map<number, WindowStats>>;
}

export interface Oracle {
  rules: EventTimeRules;
  records: number;
  accepted: number;
  late: LateRecord[];
  tenants: Map<string, TenantOracle>;
  /** First and last window end over accepted records. */
  firstWindowEnd: number;
  lastWindowEnd: number;
}

export function windowEnd(ts: number, windowMs: number): number {
  return Math.floor(ts / windowMs) * windowMs + windowMs;
}

export function computeOracle(sequence: readonly ProducedRecord[], rules: EventTimeRules = EO_RULES): Oracle {
  const newest = new Map<number, number>();
  const nextOffset = new Map<number, number>();
  const late: LateRecord[] = [];
  const groups = new Map<string, ModelGroup>();
  const leValues = [...EO_METRICS.buckets.map((b) => String(b)), '+Inf'];
  let accepted = 0;
  let firstWindowEnd = Number.POSITIVE_INFINITY;
  let lastWindowEnd = Number.NEGATIVE_INFINITY;

  for (const { partition, record } of sequence) {
    const offset = nextOffset.get(partition) ?? 0;
    nextOffset.set(partition, offset + 1);
    const max = newest.get(partition) ?? Number.NEGATIVE_INFINITY;
    if (record.ts < max - rules.maxOutOfOrdernessMs - rules.allowedLatenessMs) {
      late.push({ id: record.id, partition, offset, ts: record.ts });
      continue;
    }
    if (record.ts > max) newest.set(partition, record.ts);

    accepted++;
    const end = windowEnd(record.ts, rules.windowMs);
    if (end < firstWindowEnd) firstWindowEnd = end;
    if (end > lastWindowEnd) lastWindowEnd = end;

    const groupKey = `${record.tenant}\u0000${record.model}`;
    let g = groups.get(groupKey);
    if (!g) groups.set(groupKey, (g = newGroup(record.tenant, record.model, leValues.length)));
    g.accepted++;
    bump(g.requests, String(record.status), end, 1);
    bump(g.series, 'tokens', end, record.tokens);
    const seconds = record.latency_ms * EO_METRICS.scale;
    // le is inclusive; buckets are cumulative: a value counts in the first bucket that holds it
    // and in every one above
    for (let i = 0; i < leValues.length; i++) {
      const bound = EO_METRICS.buckets[i];
      bump(g.buckets, i, end, bound === undefined || seconds <= bound ? 1 : 0);
    }
    bump(g.series, 'sum', end, seconds);
    bump(g.series, 'count', end, 1);
    let w = g.windows.get(end);
    if (!w) g.windows.set(end, (w = { latencies: [], users: new Set() }));
    w.latencies.push(record.latency_ms);
    w.users.add(record.user);
  }

  const tenants = new Map<string, TenantOracle>();
  for (const g of groups.values()) {
    let t = tenants.get(g.tenant);
    if (!t) tenants.set(g.tenant, (t = { accepted: 0, cumulative: new Map(), windows: new Map() }));
    t.accepted += g.accepted;
    const put = (labels: Record<string, string>, byWindow: Map<number, number>, float = false) =>
      t.cumulative.set(seriesId(labels), fold(labels, byWindow, float));
    const model = g.model;
    for (const [status, byWindow] of g.requests) put({ __name__: EO_METRICS.requests, model, status }, byWindow);
    put({ __name__: EO_METRICS.tokens, model }, g.series.get('tokens')!);
    for (const [i, byWindow] of g.buckets) put({ __name__: `${EO_METRICS.histogram}_bucket`, model, le: leValues[i]! }, byWindow);
    put({ __name__: `${EO_METRICS.histogram}_sum`, model }, g.series.get('sum')!, true);
    put({ __name__: `${EO_METRICS.histogram}_count`, model }, g.series.get('count')!);
    const byEnd = new Map<number, WindowStats>();
    for (const [end, w] of g.windows) {
      const latencies = w.latencies.sort((a, b) => a - b);
      byEnd.set(end, { latencies, distinctUsers: w.users.size, maxLatency: latencies[latencies.length - 1]! });
    }
    t.windows.set(model, byEnd);
  }

  return { rules, records: sequence.length, accepted, late, tenants, firstWindowEnd, lastWindowEnd };
}

/** Everything the oracle accumulates for one (tenant, model): per-window increments and values. */
interface ModelGroup {
  tenant: string;
  model: string;
  accepted: number;
  requests: Map<string, Map<number, number>>;
  series: Map<'tokens' | 'sum' | 'count', Map<number, number>>;
  buckets: Map<number, Map<number, number>>;
  windows: Map<number, { latencies: number[]; users: Set<string> }>;
}

function newGroup(tenant: string, model: string, bucketCount: number): ModelGroup {
  return {
    tenant,
    model,
    accepted: 0,
    requests: new Map(),
    series: new Map([
      ['tokens', new Map()],
      ['sum', new Map()],
      ['count', new Map()],
    ]),
    buckets: new Map(Array.from({ length: bucketCount }, (_, i) => [i, new Map<number, number>()])),
    windows: new Map(),
  };
}

function bump<K>(series: Map<K, Map<number, number>>, key: K, end: number, value: number): void {
  let byWindow = series.get(key);
  if (!byWindow) series.set(key, (byWindow = new Map()));
  byWindow.set(end, (byWindow.get(end) ?? 0) + value);
}

function fold(labels: Record<string, string>, byWindow: Map<number, number>, float: boolean): CumulativeSeries {
  const ends = [...byWindow.keys()].sort((a, b) => a - b);
  const running: number[] = [];
  let total = 0;
  for (const end of ends) running.push((total += byWindow.get(end)!));
  return { labels, float, total, ends, running };
}

/** A cumulative series' value at window end `t`: the total over accepted records with ts < t. */
export function cumulativeAt(series: CumulativeSeries, t: number): number {
  // last index with ends[i] <= t
  let lo = 0;
  let hi = series.ends.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (series.ends[mid]! <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? 0 : series.running[found]!;
}

/**
 * The exact values a q-quantile of `sorted` may refer to under the common rank definitions:
 * lower (floor(q·(n−1)), DDSketch's), upper (ceil(q·(n−1))), nearest-rank (ceil(q·n)−1) and its
 * upper neighbour. A sketch estimate is right when it is within its relative accuracy of one.
 */
export function quantileCandidates(sorted: readonly number[], q: number): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  const clamp = (i: number) => Math.min(n - 1, Math.max(0, i));
  const ranks = new Set([Math.floor(q * (n - 1)), Math.ceil(q * (n - 1)), Math.ceil(q * n) - 1, Math.floor(q * n)].map(clamp));
  return [...ranks].map((i) => sorted[i]!);
}

export function quantileWithin(estimate: number, sorted: readonly number[], q: number, relativeAccuracy: number): boolean {
  return quantileCandidates(sorted, q).some((exact) => Math.abs(estimate - exact) <= relativeAccuracy * Math.abs(exact) * (1 + 1e-9));
}

/** HyperLogLog at precision p: 3 standard errors (1.04/√2^p each), plus 1 absolute. */
export function distinctTolerance(exact: number, precision: number): number {
  return 3 * (1.04 / Math.sqrt(2 ** precision)) * exact + 1;
}
