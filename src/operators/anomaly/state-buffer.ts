/**
 * Every detector part keeps its state in a fixed number of float64 slots, so a whole detector
 * snapshots to one Float64Array whose length depends only on its configuration (O(1) state, and
 * a byte-exact round trip: NaN, ±Infinity and every double survive, which JSON would not).
 */
export interface Persistent {
  /** Number of float64 slots this part writes. Fixed by the configuration. */
  readonly slots: number;
  /** Writes the state at `at`; returns the next free slot. */
  save(out: Float64Array, at: number): number;
  /** Reads the state written by `save` at `at`; returns the next slot. */
  load(from: Float64Array, at: number): number;
}

/** Sum of the parts' slot counts. */
export function slotsOf(parts: readonly Persistent[]): number {
  return parts.reduce((n, p) => n + p.slots, 0);
}
