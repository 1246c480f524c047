/**
 * The detector's state cut up for incremental checkpoints. Most of its ~10 KB are tables (the
 * seasonal profiles' slots, the transition counts) of which a point changes one cell each; the
 * rest (~90 slots: running statistics, counters, the likelihoods' rings) changes at every point.
 * So the tables are checkpointed in pages of `PAGE_CELLS` cells, each page written only after a
 * point touched it, and the rest, the "hot" slots, is written whole with the series: a window
 * writes ~1.5 KB instead of the whole state.
 *
 * Parts register their tables as a group (tables of one length, indexed alike: a seasonal slot's
 * mean, variance and count share a page) and mark the cells they write. Page numbers follow the
 * registration order, which the configuration fixes, so a checkpoint's pages land where they were.
 */
export const PAGE_CELLS = 16;

/** A group of equally long tables, indexed alike; `touch` marks the pages holding a cell as changed. */
export class PagedTables {
  constructor(
    private readonly pages: StatePages,
    private readonly firstPage: number,
    private readonly tableCount: number,
    private readonly pagesPerTable: number,
  ) {}

  touch(cell: number): void {
    const page = this.firstPage + ((cell / PAGE_CELLS) | 0);
    for (let t = 0; t < this.tableCount; t++) this.pages.markDirty(page + t * this.pagesPerTable);
  }
}

export class StatePages {
  /** Per page, its cells' bytes: a view of the state (no copy: a checkpoint packs it before the next point). */
  private readonly pages: Uint8Array[] = [];
  /** Where each table sits in the state, to find the hot slots around them. */
  private readonly tableRanges: [number, number][] = [];
  /** The hot slots, as [start, end) ranges of the state, and their copy (reused: a checkpoint packs it at once). */
  private hotRanges: readonly [number, number][] = [];
  private hot = new Float64Array(0);
  private hotView = new Uint8Array(0);
  private readonly dirty: boolean[] = [];
  private dirtyList: number[] = [];

  constructor(private readonly state: Float64Array) {}

  /** Registers tables of one length (views of the state), each paged the same way. */
  group(tables: readonly Float64Array[]): PagedTables {
    const length = tables[0]!.length;
    const first = this.pages.length;
    for (const table of tables) {
      if (table.length !== length) throw new Error('paged tables of one group must be equally long');
      for (let from = 0; from < length; from += PAGE_CELLS) {
        this.pages.push(new Uint8Array(table.buffer, table.byteOffset + from * 8, (Math.min(length, from + PAGE_CELLS) - from) * 8));
      }
      const start = (table.byteOffset - this.state.byteOffset) / 8;
      this.tableRanges.push([start, start + length]);
    }
    return new PagedTables(this, first, tables.length, Math.ceil(length / PAGE_CELLS));
  }
  /** Once every part registered: the hot slots are what no table holds. Every page starts changed. */
  seal(): void {
    const ranges: [number, number][] = [];
    let at = 0;
    for (const [start, end] of [...this.tableRanges].sort((a, b) => a[0] - b[0])) {
      if (start > at) ranges.push([at, start]);
      at = Math.max(at, end);
    }
    if (at < this.state.length) ranges.push([at, this.state.length]);
    this.hotRanges = ranges;
    this.hot = new Float64Array(ranges.reduce((n, [start, end]) => n + end - start, 0));
    this.hotView = new Uint8Array(this.hot.buffer);
    this.markAllDirty();
  }

  get count(): number {
    return this.pages.length;
  }

  markDirty(page: number): void {
    if (this.dirty[page]) return;
    this.dirty[page] = true;
    this.dirtyList.push(page);
  }

  /** Every page counts as changed: a state that was restored whole is not in the checkpoint's pages yet. */
  markAllDirty(): void {
    this.dirtyList = [];
    for (let page = 0; page < this.pages.length; page++) {
      this.dirty[page] = true;
      this.dirtyList.push(page);
    }
  }

  /** The hot slots' bytes (a buffer reused: write them out before the next call). */
  hotBytes(): Uint8Array {
    const { hot, state } = this;
    let at = 0;
    for (const [start, end] of this.hotRanges) for (let i = start; i < end; i++) hot[at++] = state[i]!;
    return this.hotView;
  }

  setHot(bytes: Uint8Array): void {
    const hot = aligned(bytes, this.hot.length, 'hot slots');
    let at = 0;
    for (const [start, end] of this.hotRanges) {
      this.state.set(hot.subarray(at, at + end - start), start);
      at += end - start;
    }
    // What was restored is what the checkpoint holds.
    for (const page of this.dirtyList) this.dirty[page] = false;
    this.dirtyList = [];
  }

  /**
   * Calls `put` with each page changed since the last call (every page if `all`), then counts
   * afresh. The bytes are the state's own: write them out before the next point.
   */
  changed(all: boolean, put: (page: number, bytes: Uint8Array) => void): void {
    if (all) for (let page = 0; page < this.pages.length; page++) put(page, this.pages[page]!);
    else for (const page of this.dirtyList) put(page, this.pages[page]!);
    for (const page of this.dirtyList) this.dirty[page] = false;
    this.dirtyList = [];
  }

  setPage(page: number, bytes: Uint8Array): void {
    const view = this.pages[page];
    if (view === undefined) throw new Error(`anomaly state page ${page} does not exist in this configuration (${this.pages.length} pages)`);
    if (bytes.byteLength !== view.byteLength) throw new Error(`anomaly state page ${page}: ${bytes.byteLength} bytes, expected ${view.byteLength}`);
    view.set(bytes);
  }
}

/** `bytes` as `length` doubles in an aligned buffer (a decoded Uint8Array may sit at any offset of a larger one). */
function aligned(bytes: Uint8Array, length: number, what: string): Float64Array {
  if (bytes.byteLength !== length * 8) throw new Error(`anomaly state ${what}: ${bytes.byteLength} bytes, expected ${length * 8}`);
  const doubles = new Float64Array(length);
  new Uint8Array(doubles.buffer).set(bytes);
  return doubles;
}
