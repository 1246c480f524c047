import type { MetricConfig } from '../../config/schema.ts';
import { AnomalyAggregator } from '../anomaly/aggregation.ts';
import { DriftAggregator } from '../drift/aggregation.ts';
import type { Aggregator } from './aggregator.ts';
import { DataQualityAggregator } from './data-quality.ts';
import { isSeriesStateful } from './series-state.ts';

type ScoreMetric = Extract<MetricConfig, { type: 'drift' | 'anomaly' | 'data_quality' }>;

export function isScoreMetric(metric: MetricConfig): metric is ScoreMetric {
  return metric.type === 'drift' || metric.type === 'anomaly' || metric.type === 'data_quality';
}

/** The aggregators of the drift, anomaly and data-quality kinds. */
export function createScoreAggregator(metric: ScoreMetric): Aggregator {
  switch (metric.type) {
    case 'drift':
      return new DriftAggregator({
        name: metric.name,
        value: metric.value,
        feature: metric.feature,
        methods: metric.methods,
        ...(metric.threshold !== undefined ? { threshold: metric.threshold } : {}),
        reference: metric.reference,
        maxExactValues: metric.max_exact_values,
        relativeAccuracy: metric.relative_accuracy,
        maxCategories: metric.max_categories,
      }) as unknown as Aggregator;
    case 'anomaly':
      return new AnomalyAggregator({
        name: metric.name,
        input: metric.input,
        inputLabels: metric.input_labels,
        detector: metric.detector,
        ...(metric.events_topic !== undefined ? { eventsTopic: metric.events_topic } : {}),
      }) as unknown as Aggregator;
    case 'data_quality':
      return new DataQualityAggregator(metric.name, metric.field, metric.expect, metric.min, metric.max) as Aggregator;
  }
}

/**
 * Points each anomaly metric of a series group at its input, a per-window metric of the same
 * group (the same labels, so the same series). Throws with the metric names otherwise.
 */
export function bindAnomalyInputs(metrics: readonly MetricConfig[], aggregators: readonly Aggregator[]): void {
  metrics.forEach((metric, m) => {
    if (metric.type !== 'anomaly') return;
    const input = metrics.findIndex((other) => other.name === metric.input && other.type !== 'anomaly');
    if (input < 0) throw new Error(`anomaly metric ${metric.name}: its input ${metric.input} is not a metric with the same labels`);
    if (isSeriesStateful(aggregators[input]!)) throw new Error(`anomaly metric ${metric.name}: its input ${metric.input} is itself a score; use a gauge, quantiles, distinct or data_quality metric`);
    if (aggregators[input]!.cumulative) throw new Error(`anomaly metric ${metric.name}: its input ${metric.input} is cumulative; use a per-window metric (gauge, quantiles, ...)`);
    (aggregators[m] as unknown as AnomalyAggregator).inputIndex = input;
  });
}
