import type { MetricDescriptor, MetricPoint, MetricType, PointValue } from '../core/metric-model.ts';
import { decodeSampleValue, isStaleMarker } from '../core/stale-marker.ts';
import type { Label } from '../core/types.ts';

/**
 * The outbox's checkpoint forms before the binary wire (outbox-wire.ts), read only: a checkpoint
 * written by an older Sluice still restores. Version 2 was msgpack of each descriptor once, then
 * per point its descriptor's index, flat labels, timestamp, start and value; before it, samples.
 */
export interface PointsWireV2 {
  readonly v: 2;
  readonly metrics: MetricWire[];
  readonly points: PointWire[];
}

type MetricWire = [name: string, type: MetricType, unit: string, help: string, bounds: number[] | null, quantiles: number[] | null];
type PointWire = [metric: number, labels: string[], timestampMs: number, startTimestampMs: number | null, value: ValueWire];
/** null: stale; a number; a histogram [0, bounds, bucketCounts, count, sum]; a summary [1, quantile/value pairs, count, sum]. */
type ValueWire = null | number | [0, number[], number[], number, number] | [1, number[], number, number];

/** A sample as checkpoints before points held it: flat labels (with `__name__`), encoded value, timestamp. */
export type LegacySampleWire = [string[], number | string, number];

export function decodePointsV2(wire: PointsWireV2): MetricPoint[] {
  const metrics = wire.metrics.map(([name, type, unit, help, bounds, quantiles]): MetricDescriptor => ({
    name,
    type,
    unit,
    help,
    ...(bounds ? { bounds } : {}),
    ...(quantiles ? { quantiles } : {}),
  }));
  return wire.points.map(([m, flat, timestampMs, start, value]) => ({
    metric: metrics[m]!,
    labels: unflatten(flat),
    timestampMs,
    ...(start === null ? {} : { startTimestampMs: start }),
    value: decodeValue(value),
  }));
}

/**
 * Samples of a checkpoint written before the outbox held points, as gauge points of their own
 * names: flattened again they are the very samples that were checkpointed (a stale marker back
 * to a stale point), so the re-send is byte-identical. Their type is not known any more.
 */
export function fromLegacySamples(samples: readonly LegacySampleWire[]): MetricPoint[] {
  const metrics = new Map<string, MetricDescriptor>();
  return samples.map(([flat, encoded, timestampMs]) => {
    const all = unflatten(flat);
    const name = all.find((l) => l.name === '__name__')?.value ?? '';
    let metric = metrics.get(name);
    if (metric === undefined) metrics.set(name, (metric = { name, type: 'gauge', unit: '', help: '' }));
    const value = decodeSampleValue(encoded);
    return { metric, labels: all.filter((l) => l.name !== '__name__'), timestampMs, value: isStaleMarker(value) ? undefined : value };
  });
}

function unflatten(flat: readonly string[]): Label[] {
  const labels: Label[] = [];
  for (let i = 0; i < flat.length; i += 2) labels.push({ name: flat[i]!, value: flat[i + 1]! });
  return labels;
}

function decodeValue(wire: ValueWire): PointValue | undefined {
  if (wire === null) return undefined;
  if (typeof wire === 'number') return wire;
  if (wire[0] === 0) {
    const [, bounds, bucketCounts, count, sum] = wire;
    return { bounds, bucketCounts, count, sum };
  }
  const [, pairs, count, sum] = wire;
  const quantiles: { quantile: number; value: number }[] = [];
  for (let i = 0; i < pairs.length; i += 2) quantiles.push({ quantile: pairs[i]!, value: pairs[i + 1]! });
  return { quantiles, count, sum };
}
