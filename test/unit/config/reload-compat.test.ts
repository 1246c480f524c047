import { describe, expect, it } from 'vitest';
import { decideReload } from '../../../src/config/compat.ts';
import { parsePipeline } from '../../../src/config/load.ts';
import type { PipelineConfig } from '../../../src/config/schema.ts';
import { SHOP_PIPELINE_HEAD } from '../../support/pipelines/shop-pipeline.ts';

const BASE = `${SHOP_PIPELINE_HEAD}repartition: { partitions: 2 }
metrics:
  - { name: calls_total, type: counter, labels: { model: model } }
  - { name: latency_seconds, type: histogram, value: latency, buckets: [0.1, 1], labels: { model: model } }
  - { name: bytes_total, type: counter, value: bytes, labels: { api: api } }
dead_letter: { topic: shop.dlq }
tenants:
  acme: { endpoint: "http://127.0.0.1:9/api/v1/write" }
`;

function config(text: string): PipelineConfig {
  return parsePipeline(text, 'shop.yaml', {}).config;
}

/** The decision for BASE edited by `find` → `replace` (each `find` must be in BASE). */
function decide(...edits: [find: string, replace: string][]) {
  let text = BASE;
  for (const [find, replace] of edits) {
    expect(text).toContain(find);
    text = text.replace(find, replace);
  }
  return decideReload(config(BASE), config(text));
}

const NEW_TENANT = 'tenants:\n  globex: { endpoint: "http://127.0.0.1:9/globex", limits: { max_active_series: 10 } }\n';

describe('reload compatibility', () => {
  it('an unchanged config needs nothing', () => {
    expect(decide()).toEqual({ live: [], rebuild: [], refused: [] });
  });

  it('tenants added, removed and changed apply live', () => {
    expect(decide(['tenants:\n', NEW_TENANT])).toEqual({ live: ['tenants.tenants.globex'], rebuild: [], refused: [] });
    const removed = decide(['  acme: { endpoint: "http://127.0.0.1:9/api/v1/write" }', '  globex: { endpoint: "http://127.0.0.1:9/g" }']);
    expect(removed.live).toEqual(['tenants.tenants.acme', 'tenants.tenants.globex']);
    const changed = decide(['"http://127.0.0.1:9/api/v1/write" }', '"http://127.0.0.1:10/w", limits: { max_active_series: 5 }, auth: { bearer_token_env: X } }']);
    expect(changed.refused).toEqual([]);
    expect(changed.live.every((path) => path.startsWith('tenants.tenants.acme.'))).toBe(true);
  });

  it('transforms, tenant resolution and decoding apply live', () => {
    const decision = decide(['tenant: { field: tenant }', 'tenant: { field: org }\ntransforms:\n  - { filter: "model != null" }']);
    expect(decision.refused).toEqual([]);
    expect(decision.rebuild).toEqual([]);
    expect(decision.live).toEqual(expect.arrayContaining(['tenant.field', 'transforms']));
  });

  it('a new metric after the existing ones of its labels rebuilds the stages', () => {
    const decision = decide(['dead_letter:', '  - { name: errors_total, type: counter, labels: { model: model } }\ndead_letter:']);
    expect(decision).toEqual({ live: [], rebuild: ['metrics "errors_total": a new metric is added when the stages start again'], refused: [] });
  });

  it('a metric filter or help text rebuilds the stages', () => {
    const decision = decide(['{ name: calls_total, type: counter,', '{ name: calls_total, type: counter, filter: "ok == true", help: Calls.,']);
    expect(decision.refused).toEqual([]);
    expect(decision.rebuild).toEqual([
      'metrics "calls_total".help: aggregators are built when the stages start',
      'metrics "calls_total".filter: aggregators are built when the stages start',
    ]);
  });

  it('a new metric placed before existing ones of its group is refused: it would move their state', () => {
    const decision = decide(['metrics:\n', 'metrics:\n  - { name: errors_total, type: counter, labels: { model: model } }\n']);
    expect(decision.refused).toEqual([
      'metrics "errors_total": adding it moves metric "calls_total" within the state layout; list new metrics after the existing ones that share their labels, and new label sets after the existing groups',
    ]);
  });

  it.each([
    ['window size', ['size: 10s', 'size: 20s'], 'window.size'],
    ['window type', ['type: tumbling, size: 10s', 'type: hopping, size: 10s, slide: 5s'], 'window.type'],
    ['repartition partitions', ['partitions: 2', 'partitions: 3'], 'repartition.partitions'],
    ['source topics', ['topics: [calls]', 'topics: [calls, more]'], 'source.topics'],
    ['group id', ['group_id: shop', 'group_id: shop2'], 'source.group_id'],
    ['a metric kind', ['{ name: bytes_total, type: counter, value: bytes,', '{ name: bytes_total, type: gauge, aggregate: sum, value: bytes,'], 'metrics "bytes_total".type'],
    ['a metric labels', ['labels: { api: api }', 'labels: { api: api, model: model }'], 'metrics "bytes_total".labels'],
    ['histogram buckets', ['buckets: [0.1, 1]', 'buckets: [0.1, 2]'], 'metrics "latency_seconds".buckets'],
    ['a removed metric', ['  - { name: bytes_total, type: counter, value: bytes, labels: { api: api } }\n', ''], 'metrics "bytes_total"'],
    ['the state backend', ['repartition:', 'state: { backend: redis, redis_url: "redis://127.0.0.1:6379" }\nrepartition:'], 'state.backend'],
    ['the telemetry address', ['dead_letter:', 'telemetry: { listen: "127.0.0.1:1" }\ndead_letter:'], 'telemetry.listen'],
  ] as const)('refuses a changed %s, with the reason', (_what, edit, path) => {
    const decision = decide([edit[0], edit[1]]);
    expect(decision.refused.length).toBeGreaterThan(0);
    expect(decision.refused.some((reason) => reason.startsWith(`${path}: `))).toBe(true);
    expect(decision.refused.every((reason) => reason.includes(': '))).toBe(true);
  });

  it('a refused change beside compatible ones is reported with them (the caller refuses the whole reload)', () => {
    const decision = decide(['tenants:\n', NEW_TENANT], ['size: 10s', 'size: 20s']);
    expect(decision.live).toEqual(['tenants.tenants.globex']);
    expect(decision.refused).toHaveLength(1);
  });

  it('watermark bounds and checkpoint settings rebuild the stages', () => {
    const decision = decide(['size: 10s', 'size: 10s, allowed_lateness: 5s'], ['repartition: { partitions: 2 }', 'repartition: { partitions: 2, flush_interval: 2s }']);
    expect(decision.refused).toEqual([]);
    expect(decision.rebuild.map((r) => r.split(':')[0])).toEqual(['window.allowed_lateness', 'repartition.flush_interval']);
  });
});
