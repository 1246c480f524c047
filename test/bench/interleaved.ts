import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { WindowMerger } from '../../src/operators/windowed-metrics/window-merger.ts';
import { packState } from '../../src/runtime/repartition-codec.ts';

/**
 * What the in-process score benches (scores-bench.ts, shipped-scores.ts) share: two configurations
 * take turns window by window in ABBA order, each side-window's CPU measured alone and ended by a
 * young-generation collection charged to it, and the figure is the median of the windows' paired
 * ratios (see scores-bench.ts for why each of these was needed on a shared 2-core machine).
 */

/** Cumulative CPU time (user + system) of `work`, in ms. */
export function cpuMs(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
/**
 * A scavenge of the young generation, counted in the side that filled it. Left to itself one
 * fell every ~5 side-windows (2-14 ms, a side-window is ~7-10 ms), a period that beats against
 * ABBA's 4, and the same configuration on both sides read -19 % to +35 % in a round.
 */
export const collectYoung = (): void => gc({ type: 'minor' });

/** The two sides in window `w`'s turn: A then B in even windows, B then A in odd ones (ABBA over a pair of windows). */
export function abba<T>(w: number, a: T, b: T): [T, T] {
  return w % 2 === 0 ? [a, b] : [b, a];
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Each window's ratio of side B's figure to side A's (the two ran back to back). */
export const pairedRatios = (a: readonly number[], b: readonly number[]): number[] => a.map((x, w) => b[w]! / x);

/** A ratio as the per cent it adds, signed: 1.052 → "+5.2". */
export const percentAdded = (ratio: number): string => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}`;

/**
 * One checkpoint per window (checkpoint_interval = window size), as stage 2 writes it: the head and
 * every entry that changed. Returns the bytes Redis would receive.
 */
export function checkpoint(merger: WindowMerger): number {
  let bytes = packState(merger.head()).length;
  for (const [field, wire] of merger.changes(false).put) bytes += field.length + packState(wire).length;
  return bytes;
}
