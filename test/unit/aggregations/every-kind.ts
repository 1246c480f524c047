// One pipeline's metrics section with every aggregation kind (and filter, static labels, the
// member-keyed and joined kinds), a fixed input and three windowings: the workload whose emitted
// samples are pinned byte for byte in testdata/every-kind.samples.txt, so a change to how stage 2
// emits (points, then flattened for remote write) provably leaves the wire series unchanged.
import { metricSchema } from '../../../src/config/schema.ts';
import type { Label } from '../../../src/core/types.ts';
import type { PartialAggregate } from '../../../src/operators/windowed-metrics/partial.ts';
import { planMetrics, type SeriesGroupPlan, type Windowing } from '../../../src/operators/windowed-metrics/plan.ts';
import { PreAggregator } from '../../../src/operators/windowed-metrics/pre-aggregator.ts';
import { decodePartial, encodePartial } from '../../../src/runtime/repartition-codec.ts';

export const EVERY_KIND = [
  { name: 'requests_total', type: 'counter', help: 'Requests.', labels: { model: 'model' }, filter: 'kind == "model"' },
  { name: 'tokens_total', type: 'counter', value: 'tokens', labels: { model: 'model' }, static_labels: { token_type: 'input' }, filter: 'kind == "model" && tokens > 0' },
  { name: 'latency_seconds', type: 'histogram', value: 'ms', scale: 0.001, buckets: [0.05, 0.1, 0.25, 1, 2.5], labels: { model: 'model', le: 'shard' }, filter: 'kind == "model"' },
  { name: 'latency_max_ms', type: 'gauge', aggregate: 'max', value: 'ms', labels: { model: 'model' }, filter: 'kind == "model"' },
  { name: 'latency_avg_ms', type: 'gauge', aggregate: 'avg', value: 'ms', labels: { model: 'model' }, filter: 'kind == "model"' },
  { name: 'request_rate', type: 'gauge', aggregate: 'rate', labels: { model: 'model' }, filter: 'kind == "model"' },
  { name: 'latency_last_ms', type: 'gauge', aggregate: 'last', value: 'ms', labels: { model: 'model' }, filter: 'kind == "model"' },
  { name: 'latency_ms', type: 'quantiles', value: 'ms', quantiles: [0.5, 0.9, 0.99], labels: { model: 'model' }, filter: 'kind == "model"' },
  { name: 'users', type: 'distinct', value: 'user', precision: 10, labels: { model: 'model' }, filter: 'kind == "model"' },
  { name: 'forward', type: 'passthrough', filter: 'kind == "scrape"' },
  { name: 'gpu_util_avg', type: 'rollup', aggregate: 'avg', value: 'util', members: ['host', 'gpu'], labels: { cluster: 'cluster' }, filter: 'kind == "gpu"' },
  { name: 'gpu_util_count', type: 'rollup', aggregate: 'count', value: 'util', members: ['host', 'gpu'], labels: { cluster: 'cluster' }, filter: 'kind == "gpu"' },
  { name: 'bytes_total', type: 'counter_rate', value: 'bytes', members: ['host'], labels: { cluster: 'cluster' }, filter: 'kind == "counter"' },
  { name: 'bytes_rate', type: 'counter_rate', output: 'rate', value: 'bytes', members: ['host'], labels: { cluster: 'cluster' }, filter: 'kind == "counter"' },
  { name: 'calls_per_agent', type: 'child_count', role: 'role', join_key: 'span', buckets: [0, 1, 2, 5], max_wait: '30s', labels: { cluster: 'cluster' }, filter: 'kind == "span"' },
].map((m) => metricSchema.parse(m));

export const WINDOWINGS: Record<string, Windowing> = {
  tumbling: { kind: 'panes', sizeMs: 10_000, slideMs: 10_000 },
  hopping: { kind: 'panes', sizeMs: 20_000, slideMs: 10_000 },
  session: { kind: 'session', gapMs: 5_000 },
};

export const OPTIONS = { allowedLatenessMs: 0, expireAfterMs: 30_000 };

/** [tenant, event time, record]: model traffic, scraped samples, GPU gauges, counters with a reset, agent spans. */
export function everyKindInput(): [string, number, Record<string, unknown>][] {
  const input: [string, number, Record<string, unknown>][] = [];
  for (let i = 0; i < 60; i++) {
    const t = 1_000 + i * 997;
    const tenant = i % 5 === 0 ? 'globex' : 'acme';
    input.push([tenant, t, { kind: 'model', model: `m${i % 3}`, ms: (i * 37) % 900 + 0.5, tokens: i % 4, user: `u${i % 7}`, shard: i % 2 === 0 ? 'a' : undefined }]);
    if (i < 40) input.push(['acme', t, { kind: 'scrape', name: 'up', labels: { job: `j${i % 2}`, quantile: '0.5' }, value: i % 9 === 0 ? Number.NaN : i / 3 }]);
    if (i < 30) input.push(['acme', t, { kind: 'gpu', cluster: 'c1', host: `h${i % 3}`, gpu: String(i % 2), util: (i * 13) % 100 }]);
    input.push(['acme', t, { kind: 'counter', cluster: i % 2 ? 'c1' : 'c2', host: `h${i % 2}`, bytes: i === 31 ? 5 : i * 100 }]);
    if (i < 45) input.push(['acme', t, { kind: 'span', cluster: 'c1', span: `s${Math.floor(i / 4)}`, role: i % 4 === 3 ? 1 : 0 }]);
  }
  return input;
}

/**
 * Runs the input through two stage-1 partitions (flushing every 7 records), the partials wire and
 * one merger (built by `merger`), advancing the watermark to well past expiry; returns the lines.
 */
export function runEveryKind(
  windowing: Windowing,
  merger: (groups: SeriesGroupPlan[]) => { addPartial(p: PartialAggregate): 'ok' | 'late'; advanceWatermark(w: number): void },
): SeriesGroupPlan[] {
  const groups = planMetrics(EVERY_KIND);
  const stage2 = merger(groups);
  const partitions = [new PreAggregator(groups, windowing), new PreAggregator(groups, windowing)];
  const ship = (pre: PreAggregator) => {
    for (const p of pre.drain()) stage2.addPartial(decodePartial(p.key, encodePartial(p, groups), groups));
  };
  const input = everyKindInput();
  input.forEach(([tenant, t, record], i) => {
    const rejected = partitions[i % 2]!.add(tenant, t, record);
    if (rejected) throw new Error(`${rejected.reason}: ${rejected.detail}`);
    if (i % 7 === 6) {
      partitions.forEach(ship);
      stage2.advanceWatermark(t - 2_000);
    }
  });
  partitions.forEach(ship);
  for (let w = 70_000; w <= 200_000; w += 10_000) stage2.advanceWatermark(w);
  return groups;
}

/** A sample as one exact line: tenant, labels in order, the value's IEEE bits, the timestamp. */
export function sampleLine(tenant: string, s: { labels: readonly Label[]; value: number; timestampMs: number }): string {
  const bits = Buffer.alloc(8);
  bits.writeDoubleBE(s.value);
  return `${tenant} ${s.labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(',')} ${bits.toString('hex')} ${s.value} @${s.timestampMs}`;
}
