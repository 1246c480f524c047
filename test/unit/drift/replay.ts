/**
 * The sample generator test/fixtures/drift/generate.py uses for samples too large to store: xorshift32
 * uniforms, Irwin–Hall normals (12 uniforms - 6) and a ratio of normals for a Cauchy-like tail. Only
 * IEEE-exact operations (+ - * /), so Python and JavaScript produce the same doubles.
 */
export interface SampleRecipe {
  readonly kind: 'normal' | 'cauchy';
  readonly seed: number;
  readonly n: number;
  readonly loc: number;
  readonly scale: number;
}

export function replaySample(recipe: SampleRecipe): number[] {
  let state = recipe.seed >>> 0 || 1;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const normal = (): number => {
    let total = 0;
    for (let i = 0; i < 12; i++) total += uniform();
    return total - 6;
  };
  const out: number[] = [];
  for (let i = 0; i < recipe.n; i++) {
    if (recipe.kind === 'normal') out.push(recipe.loc + recipe.scale * normal());
    else {
      const num = normal();
      const den = normal();
      out.push(recipe.loc + recipe.scale * (num / den));
    }
  }
  return out;
}
