/**
 * Reads the incremental checkpoint form written before the replay log (replay-log.ts), so those
 * checkpoints still restore: the series entry held the hot slots (every slot no table holds, in
 * state order) followed by (index, value) of each table cell changed since the base, at most
 * `MAX_DELTA_CELLS`; the base part held the tables whole, in the model's `tables` order. Only
 * read now, never written.
 */
const MAX_DELTA_CELLS = 64;

/** The slots no table holds, as [start, end) ranges in state order. */
function hotRanges(tables: readonly [number, number][], slots: number): [number, number][] {
  const ranges: [number, number][] = [];
  let at = 0;
  for (const [start, end] of [...tables].sort((a, b) => a[0] - b[0])) {
    if (start > at) ranges.push([at, start]);
    at = Math.max(at, end);
  }
  if (at < slots) ranges.push([at, slots]);
  return ranges;
}

/**
 * Writes the series entry's hot slots and changed cells into `state` (its first `slots` doubles)
 * and returns the cells, which go back on top of the base when it comes (`restoreLegacyBase`).
 */
export function restoreLegacyMain(state: Float64Array, slots: number, tables: readonly [number, number][], main: Float64Array): Float64Array {
  const hot = hotRanges(tables, slots);
  const hotLength = hot.reduce((n, [start, end]) => n + end - start, 0);
  const cells = main.length - hotLength;
  if (cells < 0 || cells % 2 !== 0 || cells > 2 * MAX_DELTA_CELLS) throw new Error(`anomaly state: ${main.byteLength} bytes, expected ${hotLength * 8} and up to ${MAX_DELTA_CELLS} cells`);
  let at = 0;
  for (const [start, end] of hot) for (let i = start; i < end; i++) state[i] = main[at++]!;
  const changed = main.subarray(at);
  for (let k = 0; k < changed.length; k += 2) {
    const index = changed[k]!;
    if (!tables.some(([start, end]) => Number.isInteger(index) && index >= start && index < end)) throw new Error(`anomaly state: cell ${index} is not a table cell`);
    state[index] = changed[k + 1]!;
  }
  return changed;
}

/** Writes the base's tables into `state`, then the cells changed since (from `restoreLegacyMain`) on top. */
export function restoreLegacyBase(state: Float64Array, tables: readonly [number, number][], base: Float64Array, changed: Float64Array): void {
  const cells = tables.reduce((n, [start, end]) => n + end - start, 0);
  if (base.length !== cells) throw new Error(`anomaly state base: ${base.byteLength} bytes, expected ${cells * 8}`);
  let at = 0;
  for (const [start, end] of tables) for (let i = start; i < end; i++) state[i] = base[at++]!;
  for (let k = 0; k < changed.length; k += 2) state[changed[k]!] = changed[k + 1]!;
}
