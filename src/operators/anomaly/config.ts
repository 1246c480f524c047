import { z } from 'zod';

/**
 * The detector's parameters. Every default is the value measured best on NAB's development split
 * (see README, "Anomaly scores"); change them only with the benchmark (`test/bench/nab-bench.ts`).
 */
export const anomalyConfigSchema = z
  .object({
    threshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.2227)
      .describe('A score at or above this is a detection (an anomaly event); also starts the rest period. Tuned on NAB.'),
    rest_points: z.number().int().min(0).max(100_000).default(30).describe('Points after a detection during which scores are held under the threshold (a value outside the running range still scores 1).'),
    range_tolerance: z
      .number()
      .min(0)
      .max(10)
      .default(0.05)
      .describe('A value beyond the running [min, max] by more than this fraction of its width scores 1.'),
    season_slot_ms: z.number().int().min(1).default(3_600_000).describe('Width of one seasonal slot, in milliseconds of event time (default: one hour).'),
    season_slots: z
      .array(z.number().int().min(1).max(10_080))
      .min(1)
      .max(4)
      .default([24, 168])
      .describe('One seasonal profile per entry, with this many slots (default: hour of day and hour of week, UTC). The seasonal likelihood is the highest of theirs; the first gives the expected range.'),
    season_alpha: z.number().gt(0).lt(1).default(0.05).describe('Weight of a new point in its slot’s mean and variance.'),
    volatility_fast_alpha: z.number().gt(0).lt(1).default(0.05).describe('Weight of a new step in the fast average of log |step|.'),
    volatility_slow_alpha: z.number().gt(0).lt(1).default(0.005).describe('Weight of a new step in the slow average of log |step|.'),
    novelty_bins: z.number().int().min(2).max(16).default(8).describe('Equal-mass value bins for the transition table.'),
    novelty_order: z.number().int().min(2).max(4).default(3).describe('Bins per transition (the table has bins^order cells).'),
    novelty_quantile_rate: z.number().gt(0).max(1).default(0.05).describe('Step of the running-quantile bin edges, in mean absolute deviations.'),
    novelty_decay: z.number().gt(0).max(1).default(0.999).describe('Decay of a transition count each time it is touched.'),
    deviation_scale: z.number().gt(0).default(3).describe('z at which a deviation’s raw score is 1 − 1/e.'),
    likelihood_window: z.number().int().min(1).max(1000).default(10).describe('Raw scores averaged before the likelihood.'),
    likelihood_alpha: z.number().gt(0).lt(1).default(0.001).describe('Weight of a new average in the long-term distribution of averages.'),
    learn_points: z.number().int().min(0).max(1_000_000_000).default(200).describe('Points before anything scores above 0 (the likelihoods and the range only learn).'),
    expected_width: z.number().gt(0).default(3).describe('Half-width of the expected range, in seasonal spreads.'),
  })
  .strict();

export type AnomalyConfig = z.output<typeof anomalyConfigSchema>;
export type AnomalyConfigInput = z.input<typeof anomalyConfigSchema>;

/** Parses and defaults a configuration; throws zod's error with the offending path. */
export function anomalyConfig(input: AnomalyConfigInput = {}): AnomalyConfig {
  return anomalyConfigSchema.parse(input);
}
