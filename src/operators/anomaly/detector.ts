import type { AnomalyConfigInput } from './config.ts';
import { anomalyConfig } from './config.ts';
import { DetectorModel, LEGACY_VERSION, type PointScratch } from './detector-model.ts';
import { restoreLegacyBase, restoreLegacyMain } from './legacy-pages.ts';

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

/**
 * Incremental checkpoints: the series entry holds the replay log, the points learnt since the
 * base (the whole state, a part of its own) was written; past `LOG_REWRITE` points the next
 * checkpoint writes the base again and empties the log. A point is two doubles where the state is
 * ~10 KB: a checkpoint per window writes ~16 B a point + 10 KB / 32 and costs no copy (both are
 * views of the state), and a restore replays at most `LOG_CAPACITY` points (~1 µs each).
 * Past `LOG_CAPACITY` points without a checkpoint, logging stops and the next one writes the base.
 */
export const LOG_REWRITE = 32;
const LOG_CAPACITY = 48;

/**
 * An online anomaly detector for one series: causal (a score uses only the points before and at
 * it), O(1) time and memory per point (fixed tables and rings sized by the configuration),
 * deterministic (no randomness, no clock: replaying the same points gives the same scores), and
 * checkpointable: its whole state is a fixed-length run of float64s (layout in detector-model.ts),
 * which `snapshot()` copies and `bytes` shows as it is; `restore` continues exactly. An incremental
 * checkpoint writes it as a base now and then plus a log of the points since (`logBytes`,
 * `changedPages`; `restoreLog` and `restorePage` put them back).
 *
 * Three raw scores, each turned into an HTM-style likelihood so it is judged against its own
 * history, are averaged: deviation from the seasonal profiles (hour of day and hour of week; the
 * more alarming of the two), a shift in volatility, and the novelty of the recent sequence of
 * levels. A value outside the running range scores 1 outright, even in a rest period. A
 * non-finite value is not learnt and scores 0.
 */
export class AnomalyDetector {
  private readonly model: DetectorModel;
  /**
   * The state's `model.slots` doubles, then the replay log: the sequence number (points learnt) of
   * its first point, then value and time per point. One array: one object per detector to reach.
   */
  private readonly state: Float64Array;
  /** Points in the replay log. */
  private logged = 0;
  /** The checkpoint has no base the log could replay onto: the next one writes it, nothing is logged till then. */
  private baseDue = true;
  /** The series entry just written emptied the log: the base goes with it (`changedPages`). */
  private baseNow = false;
  /** A base went out under a series entry that kept its log (a full rewrite): the log restarts at the next point. */
  private restart = false;
  /** Restored from a series entry whose base is still to come (`restorePage`): its log, or the old form's changed cells. */
  private pending: { readonly log: Float64Array } | { readonly legacy: Float64Array; readonly cells: Float64Array } | undefined;

  /** With a configuration, or a model shared by many detectors (an anomaly metric's series). */
  constructor(config: AnomalyConfigInput | DetectorModel = {}) {
    this.model = config instanceof DetectorModel ? config : new DetectorModel(anomalyConfig(config));
    this.state = new Float64Array(this.model.slots + 1 + 2 * LOG_CAPACITY);
    this.model.init(this.state);
  }

  get config(): DetectorModel['config'] {
    return this.model.config;
  }

  /** Scores `value` observed at `timeMs` (event time, ms since the epoch), then learns it. */
  update(value: number, timeMs: number): AnomalyPoint {
    const point: PointScratch = { score: 0, lower: 0, upper: 0, anomalous: false };
    this.updateInto(value, timeMs, point);
    return point;
  }

  /** `update`, writing the point into `into` (no allocation: the stream's per-window path). */
  updateInto(value: number, timeMs: number, into: PointScratch): void {
    if (this.pending !== undefined) throw new Error('anomaly state: restored from a series entry without its base part');
    if (!this.baseDue && Number.isFinite(value) && Number.isFinite(timeMs)) this.record(value, timeMs);
    this.model.update(this.state, value, timeMs, into);
  }

  /** The whole state, in a fixed number of float64s for this configuration (a copy). */
  snapshot(): Float64Array {
    return this.state.slice(0, this.model.slots);
  }

  /**
   * The whole state in snapshot version 1's layout (a copy), which the release before version 2
   * reads: the tests pin version 1's bytes with it. Checkpoints always write version 2.
   */
  legacySnapshot(): Float64Array {
    return this.model.legacy(this.state);
  }

  /**
   * The whole state's bytes as they are, without a copy: what a checkpoint writes. They change with
   * the next `update`, so write them out before.
   */
  get bytes(): Uint8Array {
    return new Uint8Array(this.state.buffer, 0, this.model.slots * 8);
  }

  /**
   * The series entry of an incremental checkpoint: the replay log, emptied first if the base is
   * due (then `changedPages` writes it). A view of the state: write it out before the next point.
   */
  logBytes(): Uint8Array {
    const due = this.baseDue || this.logged >= LOG_REWRITE;
    if (due || this.restart) this.restartLog();
    if (due) {
      this.baseNow = true;
      this.baseDue = false;
    }
    return new Uint8Array(this.state.buffer, this.model.slots * 8, (1 + 2 * this.logged) * 8);
  }

  /** Parts besides the series entry: one, the base. */
  get pageCount(): number {
    return 1;
  }

  /**
   * Calls `put` with the base (the whole state, a view: write it out before the next point) when
   * `logBytes` just emptied the log for it, or if `all`.
   */
  changedPages(all: boolean, put: (page: number, bytes: Uint8Array) => void): void {
    if (!all && !this.baseNow) return;
    put(0, this.bytes);
    // The series entry kept its log (a restore skips it: the base's sequence number is past it).
    if (!this.baseNow) this.restart = true;
    this.baseNow = false;
  }

  /** Writes back the base `changedPages` gave (into a detector from `restoreLog` or `restoreHot`). */
  restorePage(page: number, bytes: Uint8Array): void {
    if (page !== 0) throw new Error(`anomaly state part ${page} does not exist (only the base, 0)`);
    const pending = this.pending;
    if (pending === undefined) throw new Error('anomaly state: a base part for a detector that expects none');
    const model = this.model;
    if ('cells' in pending) {
      restoreLegacyBase(pending.legacy, model.legacyTables, aligned(bytes), pending.cells);
      model.load(this.state, pending.legacy);
      this.pending = undefined;
      return;
    }
    model.load(this.state, aligned(bytes));
    this.pending = undefined;
    // Replay the points the base does not hold yet; the log then holds them again, from the base.
    const { log } = pending;
    const skip = model.learnt(this.state) - log[0]!;
    const points = (log.length - 1) / 2;
    if (!(skip >= 0 && skip <= points)) throw new Error(`anomaly state: the base (point ${model.learnt(this.state)}) is not within the replay log (points ${log[0]} to ${log[0]! + points})`);
    this.baseDue = false;
    this.restart = true;
    const scratch: PointScratch = { score: 0, lower: 0, upper: 0, anomalous: false };
    for (let k = 1 + 2 * skip; k < log.length; k += 2) this.updateInto(log[k]!, log[k + 1]!, scratch);
  }

  /** A detector with `config` continuing from `snapshot` (taken with the same configuration, in this layout or version 1's). */
  static restore(snapshot: Float64Array, config: AnomalyConfigInput | DetectorModel = {}): AnomalyDetector {
    const detector = new AnomalyDetector(config);
    detector.model.load(detector.state, snapshot);
    return detector;
  }

  /** A detector with `config` whose replay log is `log` (from `logBytes`) and whose base is still to be written back with `restorePage`. */
  static restoreLog(log: Uint8Array, config: AnomalyConfigInput | DetectorModel = {}): AnomalyDetector {
    const detector = new AnomalyDetector(config);
    const doubles = aligned(log);
    if (doubles.length % 2 !== 1 || doubles.length > 1 + 2 * LOG_CAPACITY) throw new Error(`anomaly state: a replay log of ${log.byteLength} bytes (expected 8 + 16 per point, up to ${LOG_CAPACITY} points)`);
    detector.pending = { log: doubles };
    return detector;
  }

  /**
   * A detector with `config` from the series entry of the incremental form before the replay log
   * (hot slots and changed cells, legacy-pages.ts), whose base is still to be written back with
   * `restorePage`. It writes a base of its own at its first checkpoint.
   */
  static restoreHot(hot: Uint8Array, config: AnomalyConfigInput | DetectorModel = {}): AnomalyDetector {
    const detector = new AnomalyDetector(config);
    const model = detector.model;
    // That form is version 1's layout: put together there, then moved into this one with the base.
    const legacy = new Float64Array(model.slots);
    const cells = restoreLegacyMain(legacy, model.slots, model.legacyTables, aligned(hot));
    model.check(legacy, [LEGACY_VERSION]);
    detector.pending = { legacy, cells };
    return detector;
  }

  /** The log restarts at the current point: the base written with it (or before) holds everything learnt. */
  private restartLog(): void {
    this.state[this.model.slots] = this.model.learnt(this.state);
    this.logged = 0;
    this.restart = false;
  }

  private record(value: number, timeMs: number): void {
    if (this.restart) this.restartLog();
    if (this.logged === LOG_CAPACITY) {
      this.baseDue = true;
      return;
    }
    const at = this.model.slots + 1 + 2 * this.logged++;
    this.state[at] = value;
    this.state[at + 1] = timeMs;
  }
}

/** `bytes` as doubles in an aligned buffer (a decoded Uint8Array may sit at any offset of a larger one). */
function aligned(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength % 8 !== 0) throw new Error(`anomaly state: ${bytes.byteLength} bytes is not a whole number of doubles`);
  const doubles = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(doubles.buffer).set(bytes);
  return doubles;
}
