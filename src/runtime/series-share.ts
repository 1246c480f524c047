import type { PipelineConfig } from '../config/schema.ts';
import { taskShare } from '../operators/windowed-metrics/series-budget.ts';
import { DEFAULT_MAX_STATE_SERIES } from '../tenancy/config.ts';

/**
 * Per tenant, the share of its `limits.max_state_series` one stage-2 task enforces. Tenants of
 * the default route take its limits; the lookups are cached (tenants are few and fixed).
 */
export function stateSeriesShare(config: PipelineConfig): (tenant: string) => number {
  const shares = new Map<string, number>();
  const partitions = config.repartition.partitions;
  const { tenants, default_route: route } = config.tenants;
  return (tenant) => {
    let share = shares.get(tenant);
    if (share === undefined) {
      const limits = Object.hasOwn(tenants, tenant) ? tenants[tenant]!.limits : route?.limits;
      share = taskShare(limits?.max_state_series ?? DEFAULT_MAX_STATE_SERIES, partitions);
      shares.set(tenant, share);
    }
    return share;
  };
}
