import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { parsePipeline, type LoadedPipeline } from '../../src/config/load.ts';
import type { GatewayCallLog } from './gateway-traffic.ts';

/**
 * Shared by the label-flood integration test and the cardinality benchmark: the shipped gateway
 * pipeline under another name and topic, with chosen tenants, limits and expiry, and gateway
 * logs of one tenant whose `error_code` takes a new value on every record.
 */
const SHIPPED = fileURLToPath(new URL('../../pipelines/bailian-gateway.yaml', import.meta.url));

export interface GatewayVariant {
  readonly name: string;
  readonly topic: string;
  readonly brokers: readonly string[];
  /** Tenant id → remote-write URL and optional `limits`. */
  readonly tenants: Readonly<Record<string, { readonly url: string; readonly limits?: Record<string, unknown> }>>;
  readonly expireAfter?: string;
  readonly idleTimeout?: string;
  /** Checkpoints in this Redis (absent: the memory backend). */
  readonly redisUrl?: string;
}

export function gatewayVariant(variant: GatewayVariant): LoadedPipeline {
  const doc = parseDocument(readFileSync(SHIPPED, 'utf8'));
  doc.set('name', variant.name);
  doc.setIn(['source', 'brokers'], variant.brokers.join(','));
  doc.setIn(['source', 'topics'], [variant.topic]);
  doc.setIn(['source', 'group_id'], `sluice-${variant.name}`);
  doc.setIn(['dead_letter', 'topic'], `sluice.${variant.name}.dlq`);
  doc.setIn(['window', 'idle_timeout'], variant.idleTimeout ?? '2s');
  doc.setIn(['state', 'backend'], variant.redisUrl === undefined ? 'memory' : 'redis');
  if (variant.redisUrl !== undefined) doc.setIn(['state', 'redis_url'], variant.redisUrl);
  doc.setIn(['telemetry', 'listen'], '127.0.0.1:0');
  if (variant.expireAfter !== undefined) doc.setIn(['series', 'expire_after'], variant.expireAfter);
  doc.set(
    'tenants',
    Object.fromEntries(Object.entries(variant.tenants).map(([id, t]) => [id, { endpoint: t.url, ...(t.limits ? { limits: t.limits } : {}) }])),
  );
  // The shipped file's own path: its relative schema reference resolves as it does for the file.
  return parsePipeline(doc.toString(), SHIPPED, {});
}

/** `count` calls of `tenant` over [startMs, startMs + spanMs), each with an error code never seen before. */
export function* floodLogs(tenant: string, startMs: number, spanMs: number, count: number): Generator<GatewayCallLog> {
  for (let i = 0; i < count; i++) {
    yield {
      request_id: `flood-${i}`,
      timestamp: Math.floor(startMs + (i * spanMs) / count),
      tenant_id: tenant,
      workspace_id: `ws-${tenant}-1`,
      app_id: null,
      api_key_id: `sk-id-${tenant}-0`,
      model: 'qwen-plus',
      api: 'chat.completions',
      http_status: 400,
      error_code: `Flood.${i.toString(36)}`,
      latency_ms: 10 + (i % 50),
      ttft_ms: null,
      input_tokens: 1 + (i % 7),
      output_tokens: 0,
      cached_tokens: 0,
      stream: false,
      region: 'cn-beijing',
      source_ip: null,
      user_agent: null,
      trace_id: null,
    };
  }
}
