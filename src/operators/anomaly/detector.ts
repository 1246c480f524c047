import type { AnomalyConfig, AnomalyConfigInput } from './config.ts';
import { anomalyConfig } from './config.ts';
import { squash } from './ew-stats.ts';
import { AnomalyLikelihood } from './likelihood.ts';
import { RangeGuard } from './range-guard.ts';
import { RestPeriod } from './rest-period.ts';
import { SeasonalProfile } from './seasonal-profile.ts';
import { SlotCursor } from './state-buffer.ts';
import { StatePages } from './state-pages.ts';
import { TransitionNovelty } from './transition-novelty.ts';
import { VolatilityShift } from './volatility-shift.ts';

/** One scored point. */
export interface AnomalyPoint {
  /**
   * In [0, 1]: 1 when the value breaks out of everything seen so far, otherwise the mean of three
   * log-scaled anomaly likelihoods (each: 0.5 ≈ a 1-in-10^5 tail, 1 ≈ 1-in-10^10), held under the
   * threshold during a rest period. Compare it with `threshold`, not with a probability.
   */
  readonly score: number;
  /** The range the value was expected in (seasonal mean ± `expected_width` spreads), before this point. */
  readonly lower: number;
  readonly upper: number;
  /** score ≥ threshold. */
  readonly anomalous: boolean;
}

const SNAPSHOT_VERSION = 1;

/**
 * An online anomaly detector for one series: causal (a score uses only the points before and at
 * it), O(1) time and memory per point (fixed tables and rings sized by the configuration),
 * deterministic (no randomness, no clock: replaying the same points gives the same scores), and
 * checkpointable: its whole state is one fixed-length Float64Array (state-buffer.ts), which
 * `snapshot()` copies and `bytes` shows as it is; `restore` continues exactly. An incremental
 * checkpoint writes it in parts instead (state-pages.ts): the hot slots and changed table cells at
 * every point, the tables whole now and then; `restoreHot` and `restorePage` put them back.
 *
 * Three raw scores, each turned into an HTM-style likelihood so it is judged against its own
 * history, are averaged: deviation from the seasonal profiles (hour of day and hour of week; the
 * more alarming of the two), a shift in volatility, and the novelty of the recent sequence of
 * levels. A value outside the running range scores 1 outright, even in a rest period. A
 * non-finite value is not learnt and scores 0.
 */
export class AnomalyDetector {
  readonly config: AnomalyConfig;
  /** Version, slot count, then each part's slots in the order below: the snapshot's layout. */
  private readonly state: Float64Array;
  private readonly range: RangeGuard;
  private readonly seasons: readonly SeasonalProfile[];
  private readonly seasonLikelihoods: readonly AnomalyLikelihood[];
  private readonly volatility: VolatilityShift;
  private readonly volatilityLikelihood: AnomalyLikelihood;
  private readonly novelty: TransitionNovelty;
  private readonly noveltyLikelihood: AnomalyLikelihood;
  private readonly rest: RestPeriod;
  /** The state as an incremental checkpoint writes it: hot slots and pages of the tables (state-pages.ts). */
  private readonly pages: StatePages;

  constructor(config: AnomalyConfigInput = {}) {
    const c = (this.config = anomalyConfig(config));
    const likelihoods = c.season_slots.length + 2;
    const slots =
      2 +
      RangeGuard.SLOTS +
      c.season_slots.reduce((n, slotCount) => n + SeasonalProfile.slots(slotCount), 0) +
      likelihoods * AnomalyLikelihood.slots(c.likelihood_window) +
      VolatilityShift.SLOTS +
      TransitionNovelty.slots(c.novelty_bins, c.novelty_order) +
      RestPeriod.SLOTS;
    const state = (this.state = new Float64Array(slots));
    state[0] = SNAPSHOT_VERSION;
    state[1] = slots;
    const at = new SlotCursor(state, 2);
    const pages = (this.pages = new StatePages(state));
    const likelihood = () => new AnomalyLikelihood(c.likelihood_window, c.likelihood_alpha, c.learn_points, at.take(AnomalyLikelihood.slots(c.likelihood_window)));
    this.range = new RangeGuard(c.range_tolerance, c.learn_points, at.take(RangeGuard.SLOTS));
    this.seasons = c.season_slots.map((slotCount) => new SeasonalProfile(c.season_slot_ms, slotCount, c.season_alpha, at.take(SeasonalProfile.slots(slotCount)), pages));
    this.seasonLikelihoods = this.seasons.map(likelihood);
    this.volatility = new VolatilityShift(c.volatility_fast_alpha, c.volatility_slow_alpha, at.take(VolatilityShift.SLOTS));
    this.volatilityLikelihood = likelihood();
    this.novelty = new TransitionNovelty(c.novelty_bins, c.novelty_order, c.novelty_quantile_rate, c.novelty_decay, at.take(TransitionNovelty.slots(c.novelty_bins, c.novelty_order)), pages);
    this.noveltyLikelihood = likelihood();
    this.rest = new RestPeriod(c.rest_points, c.threshold, at.take(RestPeriod.SLOTS));
    if (at.used !== slots) throw new Error(`anomaly detector layout: ${at.used} slots laid out, ${slots} allocated`);
    pages.seal();
  }

  /** Scores `value` observed at `timeMs` (event time, ms since the epoch), then learns it. */
  update(value: number, timeMs: number): AnomalyPoint {
    const [lower, upper] = this.seasons[0]!.expected(timeMs, this.config.expected_width);
    if (!Number.isFinite(value) || !Number.isFinite(timeMs)) return { score: 0, lower, upper, anomalous: false };
    const scale = this.config.deviation_scale;
    const outside = this.range.update(value);
    let seasonal = 0;
    for (let i = 0; i < this.seasons.length; i++) {
      seasonal = Math.max(seasonal, this.seasonLikelihoods[i]!.update(squash(this.seasons[i]!.update(value, timeMs), scale)));
    }
    const volatility = this.volatilityLikelihood.update(squash(this.volatility.update(value), scale));
    const novelty = this.noveltyLikelihood.update(this.novelty.update(value));
    const rested = this.rest.apply(outside ? 1 : (seasonal + volatility + novelty) / 3);
    // A new extreme is news even right after another alarm (NAB: 73.3 vs 73.5 at 30 points of
    // rest, 71.9 vs 70.5 at 100: the score depends less on the rest length).
    const score = outside ? 1 : rested;
    return { score, lower, upper, anomalous: score >= this.config.threshold };
  }

  /** The whole state, in a fixed number of float64s for this configuration (a copy). */
  snapshot(): Float64Array {
    return this.state.slice();
  }

  /**
   * The whole state's bytes as they are, without a copy: what a checkpoint writes. They change with
   * the next `update`, so write them out before.
   */
  get bytes(): Uint8Array {
    return new Uint8Array(this.state.buffer, this.state.byteOffset, this.state.byteLength);
  }

  /**
   * The series entry of an incremental checkpoint: the slots that change at every point and the
   * table cells changed since the tables' base (state-pages.ts). A buffer of this detector's,
   * rewritten by the next call, so write it out before. `restoreHot` reads it.
   */
  get hotBytes(): Uint8Array {
    return this.pages.mainBytes();
  }

  /** Parts besides the hot bytes: one, the tables' base. */
  get pageCount(): number {
    return 1;
  }

  /**
   * Calls `put` with the tables' base when it is due (a new or wholly restored detector, or too
   * many cells changed since the last one; read `hotBytes` first: it decides) or if `all`.
   */
  changedPages(all: boolean, put: (page: number, bytes: Uint8Array) => void): void {
    this.pages.changedBase(all, put);
  }

  /** Writes back the base `changedPages` gave (into a detector from `restoreHot`). */
  restorePage(page: number, bytes: Uint8Array): void {
    if (page !== 0) throw new Error(`anomaly state part ${page} does not exist (only the base, 0)`);
    this.pages.setBase(bytes);
  }

  /** A detector with `config` continuing from `snapshot` (taken with the same configuration). */
  static restore(snapshot: Float64Array, config: AnomalyConfigInput = {}): AnomalyDetector {
    const detector = new AnomalyDetector(config);
    detector.check(snapshot[0], snapshot[1], snapshot.length);
    detector.state.set(snapshot);
    detector.pages.markBaseDue();
    return detector;
  }

  /**
   * A detector with `config` whose hot slots and changed cells are `hot` (from `hotBytes`) and
   * whose tables' base is still to be written back with `restorePage`.
   */
  static restoreHot(hot: Uint8Array, config: AnomalyConfigInput = {}): AnomalyDetector {
    const detector = new AnomalyDetector(config);
    detector.pages.setMain(hot);
    detector.check(detector.state[0], detector.state[1], detector.state.length);
    return detector;
  }

  /** Throws unless a restored header (version, slot count) and length match this configuration's layout. */
  private check(version: number | undefined, slotCount: number | undefined, length: number): void {
    const slots = this.state.length;
    if (version !== SNAPSHOT_VERSION || slotCount !== slots || length !== slots) {
      throw new Error(`anomaly snapshot does not match this configuration (version ${version}, ${length} slots, expected ${slots})`);
    }
  }
}
