import type { MetricConfig } from '../../src/config/schema.ts';

/** The shipped gateway metric that issue 10's "a pipeline with one drift metric" adds to issue 12's workload. */
export const ISSUE10_DRIFT_METRIC = 'bailian_tenant_input_tokens_drift';

/**
 * Issue 12's workload: of the shipped gateway pipeline's metrics, the 11 cumulative
 * `bailian_gateway_*` ones its figures were taken on (without the per-window scores added to the
 * file since); with `drift`, also the shipped input-tokens drift metric.
 */
export function issue12Metrics(metrics: readonly MetricConfig[], drift: boolean): MetricConfig[] {
  return metrics.filter((m) => m.name.startsWith('bailian_gateway_') || (drift && m.name === ISSUE10_DRIFT_METRIC));
}
