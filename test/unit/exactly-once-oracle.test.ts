import { describe, expect, it } from 'vitest';
import { byPartition, EO_RULES, EO_TENANTS, exclusiveModel, generateDataset, type EoRecord, type ProducedRecord } from '../support/exactly-once/dataset.ts';
import {
  computeOracle,
  cumulativeAt,
  distinctTolerance,
  EO_METRICS,
  quantileCandidates,
  quantileWithin,
  type Oracle,
} from '../support/exactly-once/oracle.ts';
import type { SeriesSamples } from '../support/exactly-once/prometheus.ts';
import { seriesId } from '../support/series-id.ts';
import { verifyTenant } from '../support/exactly-once/verify.ts';

/**
 * Self-checks of the exactly-once acceptance harness: the dataset generator, the oracle on inputs
 * whose answer is known by hand, and the verifier against an emulated perfect (and broken) engine.
 */

let seq = 0;
function rec(partition: number, ts: number, patch: Partial<EoRecord> = {}): ProducedRecord {
  const id = `r${seq++}`;
  return {
    partition,
    placement: 'in_order',
    record: { id, ts, tenant: 't1', model: 'm', status: 200, tokens: 10, latency_ms: 100, user: 'u1', ...patch },
  };
}

describe('oracle', () => {
  it('classifies late records by their own partition\'s newest event time − 2 s − 3 s', () => {
    const input = [
      rec(0, 100_000), // p0 offset 0
      rec(0, 99_000), // within the bound
      rec(1, 20_000), // p1 has its own history: not late although p0 is at 100 s
      rec(0, 95_000), // exactly max − 5 s: accepted
      rec(0, 94_999), // 1 ms beyond: late (p0 offset 3)
      rec(0, 110_000),
      rec(0, 104_999), // late against the new max (p0 offset 5)
      rec(0, 105_000), // accepted
      rec(1, 14_999), // late on p1 (p1 offset 1)
      rec(1, 15_000), // accepted
    ];
    const oracle = computeOracle(input);
    expect(oracle.late.map((l) => [l.partition, l.offset, l.ts])).toEqual([
      [0, 3, 94_999],
      [0, 5, 104_999],
      [1, 1, 14_999],
    ]);
    expect(oracle.accepted).toBe(7);
    expect(oracle.tenants.get('t1')!.accepted).toBe(7);
  });

  it('windows by event time, cumulative totals at window ends, inclusive histogram buckets', () => {
    const input = [
      rec(0, 1_000, { latency_ms: 10, tokens: 5 }), // window end 10 000; 0.01 s is in le=0.01
      rec(0, 9_999, { latency_ms: 11, tokens: 7, status: 429 }), // end 10 000; 0.011 s not in le=0.01
      rec(0, 10_000, { latency_ms: 81_920, tokens: 1 }), // end 20 000; in le=81.92
      rec(0, 25_000, { latency_ms: 90_000, tokens: 2 }), // end 30 000; only +Inf
    ];
    const t1 = computeOracle(input).tenants.get('t1')!;
    const get = (labels: Record<string, string>) => t1.cumulative.get(seriesId(labels))!;
    const requests200 = get({ __name__: 'eo_requests_total', model: 'm', status: '200' });
    expect([10_000, 19_999, 20_000, 30_000, 90_000].map((t) => cumulativeAt(requests200, t))).toEqual([1, 1, 2, 3, 3]);
    expect(cumulativeAt(requests200, 0)).toBe(0);
    expect(get({ __name__: 'eo_requests_total', model: 'm', status: '429' }).total).toBe(1);
    const tokens = get({ __name__: 'eo_tokens_total', model: 'm' });
    expect([10_000, 20_000, 30_000].map((t) => cumulativeAt(tokens, t))).toEqual([12, 13, 15]);
    const bucket = (le: string) => get({ __name__: 'eo_latency_seconds_bucket', model: 'm', le }).total;
    expect(bucket('0.01')).toBe(1);
    expect(bucket('0.02')).toBe(2);
    expect(bucket('40.96')).toBe(2);
    expect(bucket('81.92')).toBe(3);
    expect(bucket('+Inf')).toBe(4);
    expect(get({ __name__: 'eo_latency_seconds_count', model: 'm' }).total).toBe(4);
    expect(get({ __name__: 'eo_latency_seconds_sum', model: 'm' }).total).toBeCloseTo(0.01 + 0.011 + 81.92 + 90, 9);
    expect([...t1.cumulative.keys()].filter((k) => k.startsWith('eo_latency_seconds_bucket{'))).toHaveLength(15);
  });

  it('keeps per-window latencies, distinct users and max for the window gauges', () => {
    const input = [
      rec(0, 1_000, { latency_ms: 30, user: 'a' }),
      rec(1, 2_000, { latency_ms: 10, user: 'b' }),
      rec(0, 3_000, { latency_ms: 20, user: 'a' }),
      rec(0, 12_000, { latency_ms: 5, user: 'c', model: 'other' }),
      rec(2, 500, { latency_ms: 999, user: 'z', tenant: 't2' }),
    ];
    const oracle = computeOracle(input);
    const w = oracle.tenants.get('t1')!.windows.get('m')!.get(10_000)!;
    expect(w).toEqual({ latencies: [10, 20, 30], distinctUsers: 2, maxLatency: 30 });
    expect([...oracle.tenants.get('t1')!.windows.get('other')!.keys()]).toEqual([20_000]);
    expect(oracle.tenants.get('t2')!.windows.get('m')!.get(10_000)!.maxLatency).toBe(999);
    expect([oracle.firstWindowEnd, oracle.lastWindowEnd]).toEqual([10_000, 20_000]);
  });

  it('accepts a quantile estimate within the relative accuracy of a neighbouring rank only', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(quantileCandidates(values, 0.5).sort((a, b) => a - b)).toEqual([50, 51]);
    expect(quantileWithin(50.4, values, 0.5, 0.01)).toBe(true);
    expect(quantileWithin(51.5, values, 0.5, 0.01)).toBe(true);
    expect(quantileWithin(52, values, 0.5, 0.01)).toBe(false);
    expect(quantileWithin(49.4, values, 0.5, 0.01)).toBe(false);
    expect(quantileCandidates(values, 0.99).sort((a, b) => a - b)).toEqual([99, 100]);
    expect(quantileCandidates([7], 0.9)).toEqual([7]);
    expect(distinctTolerance(1_000, 14)).toBeCloseTo(3 * 0.008125 * 1_000 + 1, 6);
  });
});

// Generating a dataset takes seconds of CPU on a loaded machine: these tests check results, never speed.
describe('dataset', { timeout: 120_000 }, () => {
  const options = { seed: 42, records: 60_000, startMs: 1_700_000_000_123, spanMs: 180_000, partitions: 6 };
  const dataset = generateDataset(options);
  const oracle = computeOracle(dataset.sequence);

  it('is deterministic for a seed', () => {
    const again = generateDataset(options);
    expect(again.sequence.slice(0, 50)).toEqual(dataset.sequence.slice(0, 50));
    expect(again.sequence.length).toBe(dataset.sequence.length);
    expect(JSON.stringify(again.sequence)).toBe(JSON.stringify(dataset.sequence));
    expect(generateDataset({ ...options, seed: 43 }).sequence[10]).not.toEqual(dataset.sequence[10]);
  });

  it('has late records exactly where the generator put them beyond the lateness', () => {
    const intendedLate = dataset.sequence.filter((r) => r.placement === 'beyond_lateness').map((r) => r.record.id);
    expect(oracle.late.map((l) => l.id)).toEqual(intendedLate);
    const share = (p: string) => dataset.sequence.filter((r) => r.placement === p).length / dataset.sequence.length;
    expect(share('beyond_lateness')).toBeGreaterThan(0.003);
    expect(share('beyond_lateness')).toBeLessThan(0.007);
    expect(share('within_lateness')).toBeGreaterThan(0.007);
    expect(share('within_lateness')).toBeLessThan(0.013);
    expect(share('within_bound')).toBeGreaterThan(0.3); // out of order within the 2 s bound, a lot
  });

  it('places records within the bound, within the lateness and beyond it relative to each partition\'s newest event time', () => {
    const bound = EO_RULES.maxOutOfOrdernessMs;
    const limit = bound + EO_RULES.allowedLatenessMs;
    let onLimit = 0;
    let justBeyond = 0;
    for (const partition of byPartition(dataset.sequence, options.partitions)) {
      let max = Number.NEGATIVE_INFINITY;
      for (const { record, placement } of partition) {
        const behind = max - record.ts;
        if (placement === 'in_order') expect(behind).toBeLessThanOrEqual(0);
        if (placement === 'within_bound') expect(behind > 0 && behind <= bound).toBe(true);
        if (placement === 'within_lateness') expect(behind > bound && behind <= limit).toBe(true);
        if (placement === 'beyond_lateness') expect(behind).toBeGreaterThan(limit);
        if (behind === limit) onLimit++;
        if (behind === limit + 1) justBeyond++;
        max = Math.max(max, record.ts);
      }
    }
    expect(onLimit).toBeGreaterThan(0); // the boundary itself is exercised, on both sides
    expect(justBeyond).toBeGreaterThan(0);
  });

  it('has an empty partition, two that go quiet early, and feeds active partitions continuously', () => {
    const parts = byPartition(dataset.sequence, options.partitions);
    expect(dataset.emptyPartitions).toEqual([5]);
    expect(parts[5]).toHaveLength(0);
    expect([...dataset.quietPartitions.keys()].sort()).toEqual([3, 4]);
    const lastIndex = (p: number) => dataset.sequence.findLastIndex((r) => r.partition === p);
    // partitions 0-2 run the whole span, 3 and 4 go quiet at 70 % and 35 % of it: in the production
    // sequence that is after (3·0.35 + 0.35 + 0.35) / 4.05 and (3·0.7 + 0.7 + 0.35) / 4.05
    expect(lastIndex(4) / dataset.sequence.length).toBeCloseTo(1.75 / 4.05, 2);
    expect(lastIndex(3) / dataset.sequence.length).toBeCloseTo(3.15 / 4.05, 2);
    // At the slowest scenario rate (1 500 records/s) no partition waits 0.5 s between its records.
    for (let p = 0; p < 5; p++) {
      let previous = -1;
      let maxGap = 0;
      dataset.sequence.forEach((r, i) => {
        if (r.partition !== p) return;
        if (previous >= 0) maxGap = Math.max(maxGap, i - previous);
        previous = i;
      });
      expect(maxGap, `partition ${p}`).toBeLessThan(750);
    }
  });

  it('is skewed: t1 and qwen-plus dominate, users are Zipf-like, every tenant has its own model', () => {
    const count = (f: (r: EoRecord) => boolean) => dataset.sequence.filter((r) => f(r.record)).length;
    const n = dataset.sequence.length;
    expect(count((r) => r.tenant === 't1') / n).toBeGreaterThan(0.4);
    expect(count((r) => r.model === 'qwen-plus') / n).toBeGreaterThan(0.5);
    expect(count((r) => r.user === 'u1') / n).toBeGreaterThan(0.05);
    for (const tenant of EO_TENANTS) {
      expect(oracle.tenants.get(tenant)!.windows.has(exclusiveModel(tenant))).toBe(true);
      for (const other of EO_TENANTS) if (other !== tenant) expect(oracle.tenants.get(tenant)!.windows.has(exclusiveModel(other))).toBe(false);
    }
    const ids = new Set(dataset.sequence.map((r) => r.record.id));
    expect(ids.size).toBe(n);
    expect(dataset.maxTs).toBeLessThanOrEqual(options.startMs + options.spanMs);
    expect(dataset.minTs).toBeGreaterThan(options.startMs - 40_000);
    expect(dataset.sequence.every((r) => Number.isInteger(r.record.ts) && Number.isInteger(r.record.latency_ms) && r.record.latency_ms >= 1)).toBe(true);
  });

  it('generates and computes the oracle of the 200k-record dataset', () => {
    const big = generateDataset({ ...options, records: 200_000, spanMs: 240_000 });
    const o = computeOracle(big.sequence);
    expect(o.records).toBe(200_000);
    expect(o.accepted + o.late.length).toBe(200_000);
  });
});

describe('verifier', () => {
  const dataset = generateDataset({ seed: 7, records: 20_000, startMs: 1_700_000_000_000, spanMs: 60_000, partitions: 6 });
  const oracle = computeOracle(dataset.sequence);

  it('finds nothing wrong with a perfect engine', () => {
    for (const tenant of EO_TENANTS) {
      const result = verifyTenant(tenant, oracle, emulate(oracle, tenant));
      expect(result.details).toEqual([]);
      expect(result.gaugeWindowsChecked).toBeGreaterThan(0);
    }
  });

  it('reports a counter off by one, at one window only', () => {
    const series = emulate(oracle, 't2');
    const s = series.find((x) => x.metric.__name__ === 'eo_requests_total')!;
    s.samples[2]![1] += 1;
    const result = verifyTenant('t2', oracle, series);
    expect(result.mismatches).toBe(1);
    expect(result.details[0]).toMatch(/eo_requests_total.*oracle/);
  });

  it('reports a double-counted final value, a leaked series, a missing series and an off-window sample', () => {
    const series = emulate(oracle, 't3');
    const sum = series.find((x) => x.metric.__name__ === 'eo_latency_seconds_sum')!;
    sum.samples[sum.samples.length - 1]![1] *= 1.001;
    const leaked = emulate(oracle, 't4').find((x) => x.metric.model === exclusiveModel('t4'))!;
    const missing = series.findIndex((x) => x.metric.__name__ === 'eo_tokens_total');
    series.splice(missing, 1);
    series.push(leaked);
    const max = series.find((x) => x.metric.__name__ === 'eo_latency_max_ms')!;
    max.samples.push([max.samples[max.samples.length - 1]![0] + 1_234, 1]);
    const details = verifyTenant('t3', oracle, series).details.join('\n');
    expect(details).toMatch(/eo_latency_seconds_sum.*final value/);
    expect(details).toMatch(new RegExp(`unexpected series .*${exclusiveModel('t4')}`));
    expect(details).toMatch(/missing series eo_tokens_total/);
    expect(details).toMatch(/not on a window end/);
  });

  it('reports window gauges outside their error bounds or missing', () => {
    const series = emulate(oracle, 't1');
    const p99 = series.find((x) => x.metric.__name__ === 'eo_latency_ms' && x.metric.quantile === '0.99' && x.metric.model === 'qwen-plus')!;
    p99.samples[3]![1] *= 1.03;
    const distinct = series.find((x) => x.metric.__name__ === 'eo_distinct_users' && x.metric.model === 'qwen-plus')!;
    distinct.samples[4]![1] = Math.round(distinct.samples[4]![1] * 1.05) + 2;
    const maxLatency = series.find((x) => x.metric.__name__ === 'eo_latency_max_ms' && x.metric.model === 'qwen-max')!;
    maxLatency.samples.splice(1, 1);
    const details = verifyTenant('t1', oracle, series).details.join('\n');
    expect(details).toMatch(/eo_latency_ms\{model="qwen-plus",quantile="0.99"\}.*exact/);
    expect(details).toMatch(/eo_distinct_users\{model="qwen-plus"\}.*tolerance/);
    expect(details).toMatch(/missing eo_latency_max_ms\{model="qwen-max"\}/);
  });
});

/**
 * What a perfect engine leaves in a tenant's Prometheus: cumulative series written at every window
 * end from their first window until two windows after the data (a series is written every window,
 * like a scrape), window gauges at every window with records, quantiles off by half the accuracy,
 * distinct counts off by 1 %.
 */
function emulate(oracle: Oracle, tenant: string): SeriesSamples[] {
  const W = oracle.rules.windowMs;
  const t = oracle.tenants.get(tenant)!;
  const out: SeriesSamples[] = [];
  for (const series of t.cumulative.values()) {
    const samples: [number, number][] = [];
    for (let end = series.ends[0]!; end <= oracle.lastWindowEnd + 2 * W; end += W) samples.push([end, cumulativeAt(series, end)]);
    out.push({ metric: { ...series.labels }, samples });
  }
  for (const [model, windows] of t.windows) {
    const ends = [...windows.keys()].sort((a, b) => a - b);
    for (const q of EO_METRICS.quantileLevels) {
      out.push({
        metric: { __name__: 'eo_latency_ms', model, quantile: String(q) },
        samples: ends.map((end) => {
          const v = windows.get(end)!.latencies;
          return [end, v[Math.floor(q * (v.length - 1))]! * 1.005];
        }),
      });
    }
    out.push({ metric: { __name__: 'eo_distinct_users', model }, samples: ends.map((end) => [end, Math.round(windows.get(end)!.distinctUsers * 1.01)]) });
    out.push({ metric: { __name__: 'eo_latency_max_ms', model }, samples: ends.map((end) => [end, windows.get(end)!.maxLatency]) });
  }
  return out;
}
