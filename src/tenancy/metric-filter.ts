import type { MetricsFilterConfig } from './config.ts';

/**
 * A tenant's `metrics: { allow, deny }` as one predicate on metric names: patterns anchored as in
 * Prometheus relabelling, deny wins over allow, no allow list means all.
 */
export function compileMetricFilter(filter: MetricsFilterConfig): (name: string) => boolean {
  const compile = (patterns: readonly string[]) => patterns.map((pattern) => new RegExp(`^(?:${pattern})$`, 'u'));
  const allow = compile(filter.allow);
  const deny = compile(filter.deny);
  return (name) => (allow.length === 0 || allow.some((re) => re.test(name))) && !deny.some((re) => re.test(name));
}
