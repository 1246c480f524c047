import type { GatewayCallLog } from './gateway-traffic.ts';

/**
 * A plain reference computation of what the shipped gateway pipeline must deliver: final
 * cumulative values per tenant and series, written without any of the pipeline's code.
 */
export const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/** `name{a="x",b="y"}` with labels sorted and `__name__` taken out: a stable id for a series. */
export function seriesId(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const body = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`)
    .join(',');
  return `${name}{${body}}`;
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
    const seconds = r.latency_ms * 0.001;
    for (const le of [...DURATION_BUCKETS.map(String), '+Inf']) {
      const inBucket = le === '+Inf' || seconds <= Number(le) ? 1 : 0;
      add(r.tenant_id, { __name__: 'bailian_gateway_request_duration_seconds_bucket', ...labels, le }, inBucket);
    }
    add(r.tenant_id, { __name__: 'bailian_gateway_request_duration_seconds_sum', ...labels }, seconds);
    add(r.tenant_id, { __name__: 'bailian_gateway_request_duration_seconds_count', ...labels }, 1);
  }
  return out;
}
