/**
 * Novelty of the recent shape: each value is put in one of `bins` equal-mass bins (edges are
 * running quantiles, learnt by stochastic approximation with step `quantileRate` × the series'
 * mean absolute deviation), and the last `order` bins form a transition. The raw score is
 * 1 − P(last bin | the order−1 bins before it) from fixed count tables (bins^order and
 * bins^(order−1) cells; a touched cell decays by `decay` so old habits fade). 1 means "never seen
 * this sequence of levels before".
 * State: from `at` points seen, centre, scale, the edges and the recent bins (the last `order`,
 * oldest first); from `tableAt` per context its count then its `bins` transitions' counts, so the
 * two cells an update touches are side by side (snapshot version 1 had a table of transitions and
 * one of contexts).
 */
export class TransitionNovelty {
  /** Doubles from `at`. */
  static headSlots(bins: number, order: number): number {
    return 3 + (bins - 1) + order;
  }

  /** Doubles from `tableAt`. */
  static tableSlots(bins: number, order: number): number {
    return bins ** (order - 1) * (1 + bins);
  }

  private readonly edges: number;
  private readonly recent: number;
  /** Each edge's quantile, (i + 1) / bins, divided once here rather than per point. */
  private readonly taus: Float64Array;

  constructor(
    private readonly bins: number,
    private readonly order: number,
    private readonly quantileRate: number,
    private readonly decay: number,
    private readonly at: number,
    private readonly tableAt: number,
  ) {
    this.edges = at + 3;
    this.recent = this.edges + bins - 1;
    this.taus = Float64Array.from({ length: bins - 1 }, (_, i) => (i + 1) / bins);
  }

  /** Where version 1's slots are now, in version 1's order: the header and edges, the transitions, the contexts, the recent bins. */
  legacyOrder(): number[] {
    const { at, bins, order, tableAt } = this;
    const contexts = bins ** (order - 1);
    const v1Slots: number[] = [];
    for (let i = 0; i < 3 + bins - 1; i++) v1Slots.push(at + i);
    for (let t = 0; t < contexts * bins; t++) v1Slots.push(tableAt + Math.floor(t / bins) * (1 + bins) + 1 + (t % bins));
    for (let c = 0; c < contexts; c++) v1Slots.push(tableAt + c * (1 + bins));
    for (let i = 0; i < order; i++) v1Slots.push(this.recent + i);
    return v1Slots;
  }

  /**
   * The first and last double of the counts the next update reads (for DetectorModel.fetch): its
   * context is the recent bins but the oldest, known before the value is binned.
   */
  fetch(s: Float64Array): number {
    const { bins, order, recent } = this;
    let context = 0;
    for (let i = 1; i < order; i++) context = context * bins + s[recent + i]!;
    const counts = this.tableAt + context * (1 + bins);
    return s[counts]! + s[counts + bins]!;
  }

  update(s: Float64Array, x: number): number {
    const { at, edges, bins, order } = this;
    const edgeCount = bins - 1;
    if (s[at] === 0) {
      for (let i = 0; i < edgeCount; i++) s[edges + i] = x;
      s[at + 1] = x;
    }
    // s[at + 1]: the running centre, s[at + 2]: the running mean absolute deviation from it.
    s[at + 2] = s[at + 2]! + 0.01 * (Math.abs(x - s[at + 1]!) - s[at + 2]!);
    s[at + 1] = s[at + 1]! + 0.01 * (x - s[at + 1]!);
    let bin = 0;
    while (bin < edgeCount && x >= s[edges + bin]!) bin++;
    const step = this.quantileRate * (s[at + 2]! + 1e-9);
    const taus = this.taus;
    for (let i = 0; i < edgeCount; i++) s[edges + i] = s[edges + i]! + step * (taus[i]! - (x < s[edges + i]! ? 1 : 0));
    const recent = this.recent;
    for (let i = 0; i < order - 1; i++) s[recent + i] = s[recent + i + 1]!;
    s[recent + order - 1] = bin;
    const seen = (s[at] = Math.min(s[at]! + 1, 1e15));
    if (seen < order) return 0;
    let context = 0;
    for (let i = 0; i < order - 1; i++) context = context * bins + s[recent + i]!;
    const counts = this.tableAt + context * (1 + bins);
    const transition = counts + 1 + bin;
    const c = s[transition]!;
    const cc = s[counts]!;
    s[transition] = c * this.decay + 1;
    s[counts] = cc * this.decay + 1;
    return cc === 0 ? 1 : 1 - c / cc;
  }
}
