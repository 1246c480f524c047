import {
  cumulativeAt,
  distinctTolerance,
  EO_METRICS,
  quantileCandidates,
  quantileWithin,
  type Oracle,
  type TenantOracle,
} from './oracle.ts';
import type { SeriesSamples } from './prometheus.ts';
import { seriesId } from '../series-id.ts';

/**
 * Compares what one tenant's Prometheus holds with the oracle:
 * - the cumulative series (eo_requests_total, eo_tokens_total, eo_latency_seconds_{bucket,sum,count})
 *   are exactly the oracle's, no more, no fewer (a series of another tenant is a leak); every
 *   sample sits on a window end T and equals the oracle's total over accepted records with
 *   ts < T; the final sample equals the oracle's total (`_sum` within 1e-9 relative); and no
 *   window is skipped: at every window end of its model that the oracle expects (a window with
 *   accepted records), from the series' own first window on, the series has a sample. An active
 *   series is written every window (DESIGN §4), so a hole there is a lost or refused remote-write
 *   request, which checking only the samples present would let through;
 * - window gauges: for every window with accepted records of a (tenant, model), a sample at the
 *   window end: eo_latency_ms within the sketch's relative accuracy of the exact rank quantile,
 *   eo_distinct_users within 3 HyperLogLog standard errors + 1, eo_latency_max_ms exact. Samples
 *   at window ends without records are allowed and not checked; off-window timestamps are not.
 */
export interface TenantVerification {
  tenant: string;
  mismatches: number;
  /** Mismatch counts by kind (`wrong value eo_requests_total`, `missing sample eo_latency_ms`, …). */
  byKind: Record<string, number>;
  /** The first few mismatches of every kind, as readable lines. */
  details: string[];
  seriesSeen: number;
  samplesChecked: number;
  gaugeWindowsChecked: number;
  /** (cumulative series, expected window) pairs checked for a sample at the window end. */
  counterWindowsChecked: number;
}

const MAX_DETAILS_PER_KIND = 6;
const MAX_DETAILS = 16;
const SUM_RELATIVE_TOLERANCE = 1e-9;
const CUMULATIVE_NAMES = new Set([
  EO_METRICS.requests,
  EO_METRICS.tokens,
  `${EO_METRICS.histogram}_bucket`,
  `${EO_METRICS.histogram}_sum`,
  `${EO_METRICS.histogram}_count`,
]);

export function verifyTenant(tenant: string, oracle: Oracle, series: readonly SeriesSamples[]): TenantVerification {
  const windowMs = oracle.rules.windowMs;
  const expected: TenantOracle = oracle.tenants.get(tenant) ?? { accepted: 0, cumulative: new Map(), windows: new Map() };
  const out: TenantVerification = { tenant, mismatches: 0, byKind: {}, details: [], seriesSeen: series.length, samplesChecked: 0, gaugeWindowsChecked: 0, counterWindowsChecked: 0 };
  const examples = new Map<string, string[]>();
  const fail = (kind: string, line: string) => {
    out.mismatches++;
    const n = (out.byKind[kind] = (out.byKind[kind] ?? 0) + 1);
    if (n === 1) examples.set(kind, []);
    if (n <= MAX_DETAILS_PER_KIND) examples.get(kind)!.push(`${tenant}: ${line}`);
  };
  const at = (t: number) => `@${t} (${new Date(t).toISOString()})`;

  // cumulative series id → timestamps present
  const seenCumulative = new Map<string, Set<number>>();
  // gauge series id → timestamps present
  const gaugeSamples = new Map<string, Map<number, number>>();

  for (const s of series) {
    const id = seriesId(s.metric);
    const name = s.metric.__name__ ?? '';
    for (const [t] of s.samples) {
      if (t % windowMs !== 0) fail(`off-window ${name}`, `${id} has a sample ${at(t)} that is not on a window end`);
    }
    if (CUMULATIVE_NAMES.has(name)) {
      const want = expected.cumulative.get(id);
      if (!want) {
        fail(`unexpected series ${name}`, `unexpected series ${id} (${s.samples.length} samples, last value ${s.samples[s.samples.length - 1]?.[1]})`);
        continue;
      }
      seenCumulative.set(id, new Set(s.samples.map(([t]) => t)));
      for (const [t, value] of s.samples) {
        out.samplesChecked++;
        const exact = cumulativeAt(want, t);
        if (!same(value, exact, want.float)) fail(`wrong value ${name}`, `${id} ${at(t)} = ${value}, oracle ${exact} (diff ${value - exact})`);
      }
      const final = s.samples[s.samples.length - 1];
      if (!final) fail(`no samples ${name}`, `${id} has no samples`);
      else if (!same(final[1], want.total, want.float)) fail(`wrong final ${name}`, `${id} final value ${final[1]} ${at(final[0])}, oracle total ${want.total}`);
      continue;
    }
    if (name === EO_METRICS.quantiles || name === EO_METRICS.distinct || name === EO_METRICS.max) {
      const model = s.metric.model;
      const levels = name === EO_METRICS.quantiles ? EO_METRICS.quantileLevels.map(String) : [undefined];
      const expectedIds = new Set(
        levels.map((quantile) => seriesId({ __name__: name, model: model ?? '', ...(quantile === undefined ? {} : { quantile }) })),
      );
      if (model === undefined || !expected.windows.has(model) || !expectedIds.has(id)) {
        fail(`unexpected series ${name}`, `unexpected series ${id} (${s.samples.length} samples)`);
        continue;
      }
      gaugeSamples.set(id, new Map(s.samples));
      continue;
    }
    fail(`unexpected metric ${name}`, `unexpected metric ${id}`);
  }

  for (const id of expected.cumulative.keys()) if (!seenCumulative.has(id)) fail(`missing series ${id.slice(0, id.indexOf('{'))}`, `missing series ${id}`);

  // Window ends ascending, so the first details name the earliest holes, run after run.
  const windowEnds = new Map([...expected.windows].map(([model, windows]) => [model, [...windows.keys()].sort((a, b) => a - b)]));
  for (const [id, want] of expected.cumulative) {
    const present = seenCumulative.get(id);
    if (present === undefined) continue; // a missing series is one mismatch, reported above
    const model = want.labels.model ?? '';
    const name = want.labels.__name__ ?? '';
    for (const end of windowEnds.get(model) ?? []) {
      if (end < want.ends[0]!) continue; // before the series' first record it does not exist yet
      out.counterWindowsChecked++;
      if (!present.has(end)) {
        const records = expected.windows.get(model)!.get(end)!.latencies.length;
        fail(`missing sample ${name}`, `missing ${id} ${at(end)} (window of ${records} records of model ${model}; oracle value ${cumulativeAt(want, end)})`);
      }
    }
  }

  for (const [model, windows] of expected.windows) {
    const get = (labels: Record<string, string>) => gaugeSamples.get(seriesId(labels));
    const quantiles = EO_METRICS.quantileLevels.map((q) => ({ q, samples: get({ __name__: EO_METRICS.quantiles, model, quantile: String(q) }) }));
    const distinct = get({ __name__: EO_METRICS.distinct, model });
    const max = get({ __name__: EO_METRICS.max, model });
    for (const [end, stats] of windows) {
      out.gaugeWindowsChecked++;
      for (const { q, samples } of quantiles) {
        const v = samples?.get(end);
        out.samplesChecked++;
        if (v === undefined) fail(`missing sample ${EO_METRICS.quantiles}`, `missing ${EO_METRICS.quantiles}{model="${model}",quantile="${q}"} ${at(end)} (window of ${stats.latencies.length} records)`);
        else if (!quantileWithin(v, stats.latencies, q, EO_METRICS.relativeAccuracy)) {
          fail(
            `out of bounds ${EO_METRICS.quantiles}`,
            `${EO_METRICS.quantiles}{model="${model}",quantile="${q}"} ${at(end)} = ${v}, exact ${quantileCandidates(stats.latencies, q).join(' | ')} ` +
              `(n=${stats.latencies.length}, accuracy ${EO_METRICS.relativeAccuracy})`,
          );
        }
      }
      const d = distinct?.get(end);
      out.samplesChecked++;
      if (d === undefined) fail(`missing sample ${EO_METRICS.distinct}`, `missing ${EO_METRICS.distinct}{model="${model}"} ${at(end)}`);
      else if (Math.abs(d - stats.distinctUsers) > distinctTolerance(stats.distinctUsers, EO_METRICS.hllPrecision)) {
        fail(`out of bounds ${EO_METRICS.distinct}`, `${EO_METRICS.distinct}{model="${model}"} ${at(end)} = ${d}, exact ${stats.distinctUsers} (tolerance ±${distinctTolerance(stats.distinctUsers, EO_METRICS.hllPrecision).toFixed(1)})`);
      }
      const m = max?.get(end);
      out.samplesChecked++;
      if (m === undefined) fail(`missing sample ${EO_METRICS.max}`, `missing ${EO_METRICS.max}{model="${model}"} ${at(end)}`);
      else if (m !== stats.maxLatency) fail(`wrong value ${EO_METRICS.max}`, `${EO_METRICS.max}{model="${model}"} ${at(end)} = ${m}, exact ${stats.maxLatency}`);
    }
  }
  // examples round-robin over kinds, so every kind of problem shows
  const lists = [...examples.values()];
  for (let i = 0; out.details.length < MAX_DETAILS && lists.some((l) => i < l.length); i++) {
    for (const l of lists) if (i < l.length && out.details.length < MAX_DETAILS) out.details.push(l[i]!);
  }
  return out;
}

/** Totals per tenant of eo_requests_total that the pipeline must reach (its accepted records). */
export function expectedRequestTotals(oracle: Oracle, tenants: readonly string[]): Map<string, number> {
  return new Map(tenants.map((t) => [t, oracle.tenants.get(t)?.accepted ?? 0]));
}

function same(actual: number, expected: number, float: boolean): boolean {
  if (!float) return actual === expected;
  return Math.abs(actual - expected) <= SUM_RELATIVE_TOLERANCE * Math.max(Math.abs(expected), 1e-12);
}
