import type { PagedTables, StatePages } from './state-pages.ts';

/**
 * Novelty of the recent shape: each value is put in one of `bins` equal-mass bins (edges are
 * running quantiles, learnt by stochastic approximation with step `quantileRate` × the series'
 * mean absolute deviation), and the last `order` bins form a transition. The raw score is
 * 1 − P(last bin | the order−1 bins before it) from fixed count tables (bins^order and
 * bins^(order−1) cells; a touched cell decays by `decay` so old habits fade). 1 means "never seen
 * this sequence of levels before".
 * State: points seen, centre, scale, then the edges, transitions, contexts and recent bins.
 */
export class TransitionNovelty {
  static slots(bins: number, order: number): number {
    return 3 + (bins - 1) + bins ** order + bins ** (order - 1) + order;
  }

  private readonly edges: Float64Array;
  private readonly transitions: Float64Array;
  private readonly contexts: Float64Array;
  /** The last `order` bins, oldest first. */
  private readonly recent: Float64Array;
  /** Mark the checkpoint pages of the cells a point changed (absent: nobody checkpoints in pages). */
  private readonly transitionPages: PagedTables | undefined;
  private readonly contextPages: PagedTables | undefined;

  constructor(
    private readonly bins: number,
    private readonly order: number,
    private readonly quantileRate: number,
    private readonly decay: number,
    private readonly s: Float64Array,
    pages?: StatePages,
  ) {
    let at = 3;
    const take = (n: number) => s.subarray(at, (at += n));
    this.edges = take(bins - 1);
    this.transitions = take(bins ** order);
    this.contexts = take(bins ** (order - 1));
    this.recent = take(order);
    this.transitionPages = pages?.group([this.transitions]);
    this.contextPages = pages?.group([this.contexts]);
  }

  update(x: number): number {
    const s = this.s;
    if (s[0] === 0) {
      this.edges.fill(x);
      s[1] = x;
    }
    // s[1]: the running centre, s[2]: the running mean absolute deviation from it.
    s[2] = s[2]! + 0.01 * (Math.abs(x - s[1]!) - s[2]!);
    s[1] = s[1]! + 0.01 * (x - s[1]!);
    const edges = this.edges;
    let bin = 0;
    while (bin < edges.length && x >= edges[bin]!) bin++;
    const step = this.quantileRate * (s[2] + 1e-9);
    for (let i = 0; i < edges.length; i++) {
      const tau = (i + 1) / this.bins;
      edges[i] = edges[i]! + step * (tau - (x < edges[i]! ? 1 : 0));
    }
    this.recent.copyWithin(0, 1);
    this.recent[this.order - 1] = bin;
    const seen = (s[0] = Math.min(s[0]! + 1, 1e15));
    if (seen < this.order) return 0;
    let context = 0;
    for (let i = 0; i < this.order - 1; i++) context = context * this.bins + this.recent[i]!;
    const transition = context * this.bins + bin;
    const c = this.transitions[transition]!;
    const cc = this.contexts[context]!;
    this.transitions[transition] = c * this.decay + 1;
    this.contexts[context] = cc * this.decay + 1;
    this.transitionPages?.touch(transition);
    this.contextPages?.touch(context);
    return cc === 0 ? 1 : 1 - c / cc;
  }
}
