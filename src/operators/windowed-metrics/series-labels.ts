import type { Label } from '../../core/types.ts';
import type { SeriesGroupPlan } from './plan.ts';

/**
 * Builds, once per series, the sorted label list of every sample the series emits (one per
 * slot), so emitting a window allocates only the samples themselves.
 */
export function buildSlotLabels(
  group: SeriesGroupPlan,
  labelValues: readonly (string | undefined)[],
): (readonly Label[])[] {
  const base: Label[] = [];
  group.labelNames.forEach((name, i) => {
    const value = labelValues[i];
    if (value !== undefined) base.push({ name, value });
  });
  const slots: (readonly Label[])[] = new Array(group.slotCount);
  for (const metric of group.metrics) {
    if (metric.kind === 'counter') {
      slots[metric.slot] = withLabels(base, metric.name);
      continue;
    }
    metric.leValues.forEach((le, i) => {
      slots[metric.slot + i] = withLabels(base, `${metric.name}_bucket`, le);
    });
    slots[metric.slot + metric.leValues.length] = withLabels(base, `${metric.name}_sum`);
    slots[metric.slot + metric.leValues.length + 1] = withLabels(base, `${metric.name}_count`);
  }
  return slots;
}

function withLabels(base: readonly Label[], metricName: string, le?: string): readonly Label[] {
  const labels: Label[] = [{ name: '__name__', value: metricName }, ...base];
  if (le !== undefined) {
    // A configured label named `le` would clash with the bucket bound: the bound wins.
    const existing = labels.findIndex((l) => l.name === 'le');
    if (existing >= 0) labels.splice(existing, 1);
    labels.push({ name: 'le', value: le });
  }
  return labels.sort(byName);
}

function byName(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
