/** Numbers every generated function's source (see generatedFunction). */
let serial = 0;

/**
 * A function generated from `body` for a hot path, so that it has call sites and property loads
 * of its own (V8 keeps feedback per function: one shared closure's sites see everything that
 * passes through them and go megamorphic). `body` is the text of `function <name>(<params>)`, and
 * may use the factory's parameters `p0`, `p1`, … bound to `values`.
 *
 * Only names, positions and integers ever enter the text; config values (field names, label
 * paths) are passed as `values`, so no user text becomes code. A serial makes every source text
 * unique: V8 hands a `new Function` of a source it compiled before the earlier one's code and
 * feedback, and shared feedback is what a function of its own avoids.
 */
export function generatedFunction<F>(name: string, params: readonly string[], body: string, values: readonly unknown[]): F {
  const factory = new Function(...values.map((_, i) => `p${i}`), `'use strict'; // ${name} ${serial++}\nreturn function ${name}(${params.join(', ')}) {\n${body}\n};`);
  return factory(...values) as F;
}
