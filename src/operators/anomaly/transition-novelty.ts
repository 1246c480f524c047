/**
 * Novelty of the recent shape: each value is put in one of `bins` equal-mass bins (edges are
 * running quantiles, learnt by stochastic approximation with step `quantileRate` × the series'
 * mean absolute deviation), and the last `order` bins form a transition. The raw score is
 * 1 − P(last bin | the order−1 bins before it) from fixed count tables (bins^order and
 * bins^(order−1) cells; a touched cell decays by `decay` so old habits fade). 1 means "never seen
 * this sequence of levels before".
 * State, from `at`: points seen, centre, scale, then the edges, transitions, contexts and recent
 * bins (the last `order`, oldest first).
 */
export class TransitionNovelty {
  static slots(bins: number, order: number): number {
    return 3 + (bins - 1) + bins ** order + bins ** (order - 1) + order;
  }

  private readonly edges: number;
  private readonly transitions: number;
  private readonly contexts: number;
  private readonly recent: number;
  /** Each edge's quantile, (i + 1) / bins, divided once here rather than per point. */
  private readonly taus: Float64Array;

  constructor(
    private readonly bins: number,
    private readonly order: number,
    private readonly quantileRate: number,
    private readonly decay: number,
    private readonly at: number,
  ) {
    this.edges = at + 3;
    this.transitions = this.edges + bins - 1;
    this.contexts = this.transitions + bins ** order;
    this.recent = this.contexts + bins ** (order - 1);
    this.taus = Float64Array.from({ length: bins - 1 }, (_, i) => (i + 1) / bins);
  }

  /** The count tables ([start, end) slots): transitions, contexts. */
  get tables(): [number, number][] {
    return [
      [this.transitions, this.contexts],
      [this.contexts, this.recent],
    ];
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
    const transition = context * bins + bin;
    const c = s[this.transitions + transition]!;
    const cc = s[this.contexts + context]!;
    s[this.transitions + transition] = c * this.decay + 1;
    s[this.contexts + context] = cc * this.decay + 1;
    return cc === 0 ? 1 : 1 - c / cc;
  }
}
