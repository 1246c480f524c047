import { describe, expect, it } from 'vitest';
import type { ProducedRecord } from '../support/exactly-once/dataset.ts';
import { computeOracle, cumulativeAt, type Oracle } from '../support/exactly-once/oracle.ts';
import type { SeriesSamples } from '../support/exactly-once/prometheus.ts';
import { verifyTenant } from '../support/exactly-once/verify.ts';

/**
 * The exactly-once verifier's window check on cumulative series, on a hand-sized case: one tenant,
 * one model, records in three 10 s windows (a 429 only in the second), so the expected set is
 * small enough to write out. A remote-write request lost after a replay leaves a hole, not a wrong
 * value; the verifier must find the hole at a window the oracle expects.
 */

const T0 = 1_700_000_000_000; // a multiple of 10 s: window ends are T0 + 10 s, + 20 s, + 30 s
const W = 10_000;

function record(i: number, ts: number, status = 200): ProducedRecord {
  return {
    partition: 0,
    placement: 'in_order',
    record: { id: `r${i}`, ts, tenant: 't1', model: 'm', status, tokens: 10 + i, latency_ms: 100 + i, user: `u${i % 2}` },
  };
}

const oracle: Oracle = computeOracle([
  record(0, T0 + 1_000),
  record(1, T0 + 4_000),
  record(2, T0 + W + 2_000, 429),
  record(3, T0 + W + 3_000),
  record(4, T0 + 2 * W + 5_000),
]);
const ENDS = [T0 + W, T0 + 2 * W, T0 + 3 * W];

/**
 * What the engine writes when nothing is lost: every cumulative series at every window end from
 * its first window on (a counter repeats its value), the window gauges at every window with
 * records, each gauge at its exact value.
 */
function complete(): SeriesSamples[] {
  const t1 = oracle.tenants.get('t1')!;
  const out: SeriesSamples[] = [];
  for (const series of t1.cumulative.values()) {
    out.push({ metric: series.labels, samples: ENDS.filter((end) => end >= series.ends[0]!).map((end) => [end, cumulativeAt(series, end)]) });
  }
  const windows = [...t1.windows.get('m')!];
  const gauge = (labels: Record<string, string>, value: (stats: (typeof windows)[number][1]) => number): SeriesSamples => ({
    metric: labels,
    samples: windows.map(([end, stats]) => [end, value(stats)]),
  });
  // Exact ranks: within any sketch accuracy.
  for (const q of [0.5, 0.9, 0.99]) out.push(gauge({ __name__: 'eo_latency_ms', model: 'm', quantile: String(q) }, (s) => s.latencies[Math.floor(q * (s.latencies.length - 1))]!));
  out.push(gauge({ __name__: 'eo_distinct_users', model: 'm' }, (s) => s.distinctUsers));
  out.push(gauge({ __name__: 'eo_latency_max_ms', model: 'm' }, (s) => s.maxLatency));
  return out;
}

function withoutSample(series: SeriesSamples[], id: { name: string; labels: Record<string, string> }, end: number): SeriesSamples[] {
  const target = series.find((s) => s.metric.__name__ === id.name && Object.entries(id.labels).every(([k, v]) => s.metric[k] === v));
  expect(target, `${id.name} in the received set`).toBeDefined();
  const before = target!.samples.length;
  target!.samples = target!.samples.filter(([t]) => t !== end);
  expect(target!.samples).toHaveLength(before - 1);
  return series;
}

describe('verifier: a cumulative sample at every expected window', () => {
  it('the hand-sized oracle has the windows and series the cases below rely on', () => {
    const t1 = oracle.tenants.get('t1')!;
    expect([...t1.windows.get('m')!.keys()].sort((a, b) => a - b)).toEqual(ENDS);
    expect(t1.cumulative.get('eo_requests_total{model="m",status="429"}')!.ends).toEqual([T0 + 2 * W]);
    expect(t1.cumulative.get('eo_requests_total{model="m",status="200"}')!.ends).toEqual(ENDS);
  });

  it('finds nothing wrong with the complete set, and checks every (series, window) pair', () => {
    const result = verifyTenant('t1', oracle, complete());
    expect(result.details).toEqual([]);
    expect(result.mismatches).toBe(0);
    // 20 series (2 request statuses, tokens, 15 buckets, sum, count): 19 start in the first
    // window (3 windows each), the 429 series in the second (2 windows).
    expect(oracle.tenants.get('t1')!.cumulative.size).toBe(20);
    expect(result.counterWindowsChecked).toBe(19 * 3 + 2);
  });

  it('reports a counter sample missing at a middle window, naming the series and the window', () => {
    const end = T0 + 2 * W;
    const received = withoutSample(complete(), { name: 'eo_tokens_total', labels: { model: 'm' } }, end);
    const result = verifyTenant('t1', oracle, received);
    expect(result.mismatches).toBe(1);
    expect(result.byKind).toEqual({ 'missing sample eo_tokens_total': 1 });
    expect(result.details).toEqual([
      `t1: missing eo_tokens_total{model="m"} @${end} (${new Date(end).toISOString()}) (window of 2 records of model m; oracle value ${10 + 11 + 12 + 13})`,
    ]);
  });

  it('reports a missing window of a series whose value did not change there (it repeats its value)', () => {
    const end = T0 + 3 * W; // no 429 in the third window: the sample repeats 1
    const received = withoutSample(complete(), { name: 'eo_requests_total', labels: { model: 'm', status: '429' } }, end);
    const result = verifyTenant('t1', oracle, received);
    expect(result.mismatches).toBe(1);
    expect(result.details[0]).toBe(`t1: missing eo_requests_total{model="m",status="429"} @${end} (${new Date(end).toISOString()}) (window of 1 records of model m; oracle value 1)`);
  });

  it('reports the last window of a histogram bucket (the hole a lost final request leaves)', () => {
    const end = T0 + 3 * W;
    const received = withoutSample(complete(), { name: 'eo_latency_seconds_bucket', labels: { model: 'm', le: '+Inf' } }, end);
    // The bucket's final sample is gone too, so its final value is now the second window's.
    const byKind = verifyTenant('t1', oracle, received).byKind;
    expect(byKind).toEqual({ 'missing sample eo_latency_seconds_bucket': 1, 'wrong final eo_latency_seconds_bucket': 1 });
  });

  it('does not ask for a sample before the series first has records', () => {
    const received = complete();
    const late429 = received.find((s) => s.metric.status === '429')!;
    expect(late429.samples.map(([t]) => t)).toEqual([T0 + 2 * W, T0 + 3 * W]);
    expect(verifyTenant('t1', oracle, received).mismatches).toBe(0);
  });
});
