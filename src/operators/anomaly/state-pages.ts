/**
 * The detector's state cut up for incremental checkpoints. Most of its ~10 KB are tables (the
 * seasonal profiles' slots, the transition counts) of which a point changes a few cells; the rest
 * (~90 slots: running statistics, counters, the likelihoods' rings) changes at every point. So a
 * checkpoint writes the tables whole only now and then, as a base, and with the series at every
 * window the hot slots plus the table cells changed since that base (at most `MAX_DELTA_CELLS`,
 * as index and value; past that the base is written again and the delta starts empty).
 *
 * Two entries would do per window too (hot slots, changed pages), but each entry costs a
 * checkpoint ~1.5 µs of packing, more than copying the whole state: one entry per window, with a
 * base every so often, is what pays.
 *
 * Parts register their tables as a group (tables of one length, indexed alike: a seasonal slot's
 * mean, variance and count) and mark the cells they write.
 */
export const MAX_DELTA_CELLS = 64;

/** A group of equally long tables, indexed alike; `touch` marks a cell of each as changed. */
export class PagedTables {
  constructor(
    private readonly pages: StatePages,
    private readonly starts: readonly number[],
  ) {}

  touch(cell: number): void {
    for (let t = 0; t < this.starts.length; t++) this.pages.markChanged(this.starts[t]! + cell);
  }
}

export class StatePages {
  /** Where each table sits in the state ([start, end) slots), in registration order: the base's layout. */
  private readonly tableRanges: [number, number][] = [];
  private tableCells = 0;
  /** The hot slots, as [start, end) ranges of the state. */
  private hotRanges: readonly [number, number][] = [];
  private hotLength = 0;
  /** The series entry's form: hot slots, then (index, value) per changed cell; reused per write. */
  private main = new Float64Array(0);
  /** Table cells (state indices) changed since the base was written, and which are in that list. */
  private readonly changedCells: number[] = [];
  private changedFlags = new Uint8Array(0);
  /** The checkpoint holds no base for these tables, or too many cells changed since: write it next. */
  private baseDue = true;

  constructor(private readonly state: Float64Array) {}

  /** Registers tables of one length (views of the state), indexed alike. */
  group(tables: readonly Float64Array[]): PagedTables {
    const starts = tables.map((table) => {
      if (table.length !== tables[0]!.length) throw new Error('tables of one group must be equally long');
      const start = (table.byteOffset - this.state.byteOffset) / 8;
      this.tableRanges.push([start, start + table.length]);
      this.tableCells += table.length;
      return start;
    });
    return new PagedTables(this, starts);
  }

  /** Once every part registered: the hot slots are what no table holds. */
  seal(): void {
    const ranges: [number, number][] = [];
    let at = 0;
    for (const [start, end] of [...this.tableRanges].sort((a, b) => a[0] - b[0])) {
      if (start > at) ranges.push([at, start]);
      at = Math.max(at, end);
    }
    if (at < this.state.length) ranges.push([at, this.state.length]);
    this.hotRanges = ranges;
    this.hotLength = ranges.reduce((n, [start, end]) => n + end - start, 0);
    this.main = new Float64Array(this.hotLength + 2 * MAX_DELTA_CELLS);
    this.changedFlags = new Uint8Array(this.state.length);
  }

  markChanged(index: number): void {
    if (this.changedFlags[index] === 1) return;
    this.changedFlags[index] = 1;
    this.changedCells.push(index);
  }

  /** The state was restored whole: the checkpoint has no base of it yet. */
  markBaseDue(): void {
    this.baseDue = true;
  }

  /**
   * The series entry's bytes: the hot slots and the cells changed since the base (none if the base
   * is written now, see `changedBase`). A buffer of this detector's: write it out before the next point.
   */
  mainBytes(): Uint8Array {
    const { main, state } = this;
    let at = 0;
    for (const [start, end] of this.hotRanges) for (let i = start; i < end; i++) main[at++] = state[i]!;
    if (this.changedCells.length > MAX_DELTA_CELLS) this.baseDue = true;
    if (!this.baseDue) {
      for (const index of this.changedCells) {
        main[at++] = index;
        main[at++] = state[index]!;
      }
    }
    return new Uint8Array(main.buffer, 0, at * 8);
  }

  /** Hot slots and changed cells back from `mainBytes`; the cells stay marked (the base predates them). */
  setMain(bytes: Uint8Array): void {
    const main = aligned(bytes);
    const cells = main.length - this.hotLength;
    if (cells < 0 || cells % 2 !== 0 || cells > 2 * MAX_DELTA_CELLS) throw new Error(`anomaly state: ${bytes.byteLength} bytes, expected ${this.hotLength * 8} and up to ${MAX_DELTA_CELLS} cells`);
    let at = 0;
    for (const [start, end] of this.hotRanges) for (let i = start; i < end; i++) this.state[i] = main[at++]!;
    this.baseDue = false;
    for (; at < main.length; at += 2) {
      const index = main[at]!;
      if (!this.isTableCell(index)) throw new Error(`anomaly state: cell ${index} is not a table cell`);
      this.state[index] = main[at + 1]!;
      this.markChanged(index);
    }
  }

  /** Calls `put` with the tables' base if it is due (or `all`), then counts changed cells afresh. */
  changedBase(all: boolean, put: (part: number, bytes: Uint8Array) => void): void {
    if (!all && !this.baseDue) return;
    const base = new Float64Array(this.tableCells);
    let at = 0;
    for (const [start, end] of this.tableRanges) for (let i = start; i < end; i++) base[at++] = this.state[i]!;
    put(0, new Uint8Array(base.buffer));
    for (const index of this.changedCells) this.changedFlags[index] = 0;
    this.changedCells.length = 0;
    this.baseDue = false;
  }

  /** The tables from a base `changedBase` gave; the cells changed since (from `setMain`) go back on top. */
  setBase(bytes: Uint8Array): void {
    const base = aligned(bytes);
    if (base.length !== this.tableCells) throw new Error(`anomaly state base: ${bytes.byteLength} bytes, expected ${this.tableCells * 8}`);
    const newer = this.changedCells.map((index) => this.state[index]!);
    let at = 0;
    for (const [start, end] of this.tableRanges) for (let i = start; i < end; i++) this.state[i] = base[at++]!;
    this.changedCells.forEach((index, k) => (this.state[index] = newer[k]!));
  }

  private isTableCell(index: number): boolean {
    return this.tableRanges.some(([start, end]) => Number.isInteger(index) && index >= start && index < end);
  }
}

/** `bytes` as doubles in an aligned buffer (a decoded Uint8Array may sit at any offset of a larger one). */
function aligned(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength % 8 !== 0) throw new Error(`anomaly state: ${bytes.byteLength} bytes is not a whole number of doubles`);
  const doubles = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(doubles.buffer).set(bytes);
  return doubles;
}
