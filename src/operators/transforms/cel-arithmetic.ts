/**
 * `+ - * /` of compiled CEL (cel-compiler.ts). Doubles only, but for `+` of two strings; ints,
 * mixed types and errors give FALLBACK (cel-js decides them).
 *
 * An operator that can only give a double (`-`, `*`, `/`, and `+` with an operand that is one)
 * computes into `result`, a Float64Array slot, and hands it to the operator above it as a double:
 * a double returned from a closure is a new heap number, and the young-generation collections
 * those allocations set off were most of what compiled arithmetic cost (the gateway's `cost`
 * allocated one per operator, seven per record, issue 12). Only the value of the whole tree is
 * boxed, once, where something other than arithmetic reads it.
 */

import { FALLBACK, fieldReadBy, literals, type CompiledCel } from './cel-operators.ts';

/** A double-valued tree: true with its value in `result[0]`, or false where only cel-js can say. */
type NumericCel = (record: Record<string, unknown>) => boolean;

/**
 * Evaluation is synchronous, and an operator copies its left value into a local before it
 * evaluates its right operand, so one slot serves every expression.
 */
const result = new Float64Array(1);

/** The numeric form of the closures below, for the operator above them. */
const numericForms = new WeakMap<CompiledCel, NumericCel>();

const OPERATION = { '+': 0, '-': 1, '*': 2, '/': 3 } as const;

export function arithmetic(op: '+' | '-' | '*' | '/', a: CompiledCel, b: CompiledCel): CompiledCel {
  if (op === '+' && !givesDouble(a) && !givesDouble(b)) return concatenationOrSum(a, b);
  const operation = OPERATION[op];
  const [aField, aNumeric] = [fieldReadBy(a), numericForms.get(a)];
  const [bField, bNumeric] = [fieldReadBy(b), numericForms.get(b)];
  const c = literals.get(b);
  const bDouble = typeof c === 'number' ? c : undefined;
  // The operands' reads are written out, not a helper's calls: V8 did not inline a helper here.
  const numeric: NumericCel = (record) => {
    let x: unknown;
    if (aNumeric !== undefined) {
      if (!aNumeric(record)) return false;
      x = result[0];
    } else x = aField === undefined ? a(record) : record[aField];
    if (typeof x !== 'number') return false;
    let y: unknown;
    if (bDouble !== undefined) y = bDouble;
    else if (bNumeric !== undefined) {
      if (!bNumeric(record)) return false;
      y = result[0];
    } else y = bField === undefined ? b(record) : record[bField];
    if (typeof y !== 'number') return false;
    result[0] = operation === 0 ? x + y : operation === 1 ? x - y : operation === 2 ? x * y : x / y;
    return true;
  };
  const node: CompiledCel = (record) => (numeric(record) ? result[0] : FALLBACK);
  numericForms.set(node, numeric);
  return node;
}

/** A double or FALLBACK, never another value: arithmetic other than joining strings, a double literal. */
function givesDouble(node: CompiledCel): boolean {
  return numericForms.has(node) || typeof literals.get(node) === 'number';
}

/** `+` where either operand may be a string. */
function concatenationOrSum(a: CompiledCel, b: CompiledCel): CompiledCel {
  const [aField, bField] = [fieldReadBy(a), fieldReadBy(b)];
  return (record) => {
    const left = aField === undefined ? a(record) : record[aField];
    const right = bField === undefined ? b(record) : record[bField];
    if (typeof left === 'number' && typeof right === 'number') return left + right;
    if (typeof left === 'string' && typeof right === 'string') return left + right;
    return FALLBACK;
  };
}
