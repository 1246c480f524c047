import type { ModelServingLog } from './model-serving-traffic.ts';
import { WindowedOracle } from './windowed-oracle.ts';

/**
 * What pipelines/model-serving.yaml must deliver for a set of accepted records, restated from the
 * YAML by hand (15 s tumbling windows; ms fields scaled by 0.001 into seconds).
 */
export const SERVING_WINDOW_MS = 15_000;
export const SERVING_QUANTILES = [0.5, 0.9, 0.99] as const;
export const SERVING_RELATIVE_ACCURACY = 0.01;

const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const PREFILL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DECODE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80];
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

export function modelServingOracle(records: readonly ModelServingLog[]): WindowedOracle {
  const oracle = new WindowedOracle(SERVING_WINDOW_MS);
  for (const r of records) {
    const t = r.tenant_id;
    const at = r.timestamp;
    const replica = { model: r.model, replica: r.pod };
    oracle.counter(t, 'model_serving_requests_total', { ...replica, status: r.status, error_type: r.error_type }, at, 1);
    oracle.counter(t, 'model_serving_input_tokens_total', replica, at, r.input_tokens);
    oracle.counter(t, 'model_serving_output_tokens_total', replica, at, r.output_tokens);
    oracle.histogram(t, 'model_serving_queue_time_seconds', replica, QUEUE_BUCKETS, at, r.queue_time_ms * 0.001);
    oracle.histogram(t, 'model_serving_prefill_time_seconds', replica, PREFILL_BUCKETS, at, r.prefill_time_ms * 0.001);
    oracle.histogram(t, 'model_serving_decode_time_seconds', replica, DECODE_BUCKETS, at, r.decode_time_ms * 0.001);
    if (r.ttft_ms !== null) oracle.histogram(t, 'model_serving_time_to_first_token_seconds', replica, TTFT_BUCKETS, at, r.ttft_ms * 0.001);
    // A `_seconds` metric carries seconds (Prometheus base units), like every other latency here.
    oracle.quantiles(t, 'model_serving_request_latency_seconds', { model: r.model }, SERVING_QUANTILES, at, r.e2e_latency_ms * 0.001);
    oracle.gauge(t, 'model_serving_batch_size_avg', 'avg', replica, at, r.batch_size);
    oracle.gauge(t, 'model_serving_batch_size_max', 'max', replica, at, r.batch_size);
    oracle.gauge(t, 'model_serving_kv_cache_usage_ratio_max', 'max', replica, at, r.kv_cache_usage);
    // Throughput averages only requests that generated tokens.
    if (r.output_tokens > 0) oracle.gauge(t, 'model_serving_output_tokens_per_second_avg', 'avg', replica, at, r.tokens_per_second);
  }
  return oracle;
}
