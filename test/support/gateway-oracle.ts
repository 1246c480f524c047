import type { GatewayCallLog } from './gateway-traffic.ts';
import { seriesId } from './series-id.ts';

/**
 * A plain reference computation of what the shipped gateway pipeline must deliver: final
 * cumulative values per tenant and series, written without any of the pipeline's code.
 */
export const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];
/** The shipped pipeline's price table, per 1000 tokens. */
const PRICES: Record<string, { input: number; cached: number; output: number }> = {
  'qwen-max': { input: 0.0024, cached: 0.00096, output: 0.0096 },
  'qwen-plus': { input: 0.0008, cached: 0.00032, output: 0.002 },
  'qwen-turbo': { input: 0.0003, cached: 0.00012, output: 0.0006 },
  'qwen3-coder-plus': { input: 0.004, cached: 0.0016, output: 0.016 },
  'deepseek-v3': { input: 0.002, cached: 0.0005, output: 0.008 },
};

/** Series whose values are float sums: compared with a tolerance, not exactly. */
export function isFloatSum(id: string): boolean {
  return id.includes('_seconds_sum{') || id.startsWith('bailian_gateway_cost_total{');
}

export function gatewayOracle(records: readonly GatewayCallLog[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const add = (tenant: string, labels: Record<string, string>, value: number) => {
    let series = out.get(tenant);
    if (!series) out.set(tenant, (series = new Map()));
    const id = seriesId(labels);
    series.set(id, (series.get(id) ?? 0) + value);
  };
  for (const r of records) {
    const labels: Record<string, string> = { model: r.model, api: r.api, http_status: String(r.http_status) };
    if (r.error_code) labels.error_code = r.error_code;
    add(r.tenant_id, { __name__: 'bailian_gateway_requests_total', ...labels }, 1);
    add(r.tenant_id, { __name__: 'bailian_gateway_input_tokens_total', ...labels }, r.input_tokens);
    add(r.tenant_id, { __name__: 'bailian_gateway_output_tokens_total', ...labels }, r.output_tokens);
    histogram(add, r.tenant_id, 'bailian_gateway_request_duration_seconds', labels, DURATION_BUCKETS, r.latency_ms * 0.001);
    const short: Record<string, string> = { model: r.model, api: r.api };
    const app: Record<string, string> = r.app_id ? { ...short, app: r.app_id } : short;
    add(r.tenant_id, { __name__: 'bailian_gateway_app_requests_total', ...app }, 1);
    add(r.tenant_id, { __name__: 'bailian_gateway_cached_tokens_total', ...short }, r.cached_tokens);
    if (r.error_code?.startsWith('Throttling')) add(r.tenant_id, { __name__: 'bailian_gateway_throttled_requests_total', ...short, error_code: r.error_code }, 1);
    if (r.error_code === 'DataInspectionFailed') add(r.tenant_id, { __name__: 'bailian_gateway_content_moderation_hits_total', ...short }, 1);
    const ok = r.http_status === 200;
    if (r.stream && ok) histogram(add, r.tenant_id, 'bailian_gateway_time_to_first_token_seconds', short, TTFT_BUCKETS, r.ttft_ms! * 0.001);
    if (r.stream && ok && r.output_tokens > 1) {
      histogram(add, r.tenant_id, 'bailian_gateway_time_per_output_token_seconds', short, TPOT_BUCKETS, (r.latency_ms - r.ttft_ms!) / (r.output_tokens - 1) / 1000);
    }
    const price = PRICES[r.model];
    const cost = price ? ((r.input_tokens - r.cached_tokens) * price.input + r.cached_tokens * price.cached + r.output_tokens * price.output) / 1000 : 0;
    add(r.tenant_id, { __name__: 'bailian_gateway_cost_total', model: r.model }, cost);
  }
  return out;
}

function histogram(
  add: (tenant: string, labels: Record<string, string>, value: number) => void,
  tenant: string,
  name: string,
  labels: Record<string, string>,
  buckets: readonly number[],
  value: number,
): void {
  for (const le of [...buckets.map(String), '+Inf']) {
    add(tenant, { __name__: `${name}_bucket`, ...labels, le }, le === '+Inf' || value <= Number(le) ? 1 : 0);
  }
  add(tenant, { __name__: `${name}_sum`, ...labels }, value);
  add(tenant, { __name__: `${name}_count`, ...labels }, 1);
}
