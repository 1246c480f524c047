/**
 * The operators of compiled CEL (cel-compiler.ts): closures for comparison and equality with a
 * literal (arithmetic: cel-arithmetic.ts), each returning FALLBACK wherever cel-js alone
 * can say what the expression gives (ints, mixed types, errors). An operator whose right operand
 * is a literal (a closure `literal` marked) tests only its left operand.
 */

/** Returned by a compiled closure when only cel-js can say what the expression gives. */
export const FALLBACK: unique symbol = Symbol('cel-fallback');

export type CompiledCel = (record: Record<string, unknown>) => unknown;

/**
 * Closures that read one field of the record (fieldRead), by the field's name. An operator that
 * tests its operand's type reads such a field itself, `field === undefined ? node(record) :
 * record[field]`, instead of calling the closure: the closures' call sites serve every expression,
 * so V8 cannot inline through them (nor did it inline a helper for that read). A raw value that is
 * no CEL value (undefined, a Date) fails the operator's type test just as the FALLBACK the closure
 * would give. Only where the type is tested: a `?:` branch's value is passed on, so it is called.
 */
const fieldNames = new WeakMap<CompiledCel, string>();

/**
 * The closure reading record field `name` as CEL sees it: the value, or FALLBACK for a missing
 * field or one that is no CEL value. Only for names Object.prototype lacks, so that an own field
 * is the only thing `record[name]` can find (decoded records are plain objects, field-path.ts).
 */
export function fieldRead(name: string): CompiledCel {
  const node: CompiledCel = (record) => {
    const value = record[name];
    // Doubles, strings and bools first: almost every field is one.
    const type = typeof value;
    return type === 'number' || type === 'string' || type === 'boolean' || isCelValue(value) ? value : FALLBACK;
  };
  fieldNames.set(node, name);
  return node;
}

/** The field `node` reads when fieldRead made it, else undefined. */
export function fieldReadBy(node: CompiledCel): string | undefined {
  return fieldNames.get(node);
}

/**
 * Closures that always give the same double, string, bool or null (a literal, a folded constant):
 * an operator with one of them on its right tests only its left operand (`http_status >= 400.0`,
 * `error_code == "DataInspectionFailed"`, `x - 1.0`), with the same results as the general case.
 */
export const literals = new WeakMap<CompiledCel, number | string | boolean | null>();

/** Marks `node` as always giving `value` when that is a double, string, bool or null (ints stay general: they fall back). */
export function literal(node: CompiledCel, value: unknown): CompiledCel {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') literals.set(node, value);
  return node;
}

/**
 * `left == c` / `left != c` for a literal c, as the general case decides it: the same scalar type
 * compares with `===`, null against a scalar is unequal, anything else falls back to cel-js.
 */
export function equalsLiteral(a: CompiledCel, c: number | string | boolean | null, negate: boolean): CompiledCel {
  const aField = fieldReadBy(a);
  if (c === null) {
    return (record) => {
      const left = aField === undefined ? a(record) : record[aField];
      if (left === null) return !negate;
      return isNullable(left) ? negate : FALLBACK;
    };
  }
  const type = typeof c;
  return (record) => {
    const left = aField === undefined ? a(record) : record[aField];
    if (typeof left === type) return (left === c) !== negate;
    return left === null ? negate : FALLBACK;
  };
}

export function comparison(op: '<' | '<=' | '>' | '>=', a: CompiledCel, b: CompiledCel): CompiledCel {
  const [aField, bField] = [fieldReadBy(a), fieldReadBy(b)];
  const c = literals.get(b);
  if (typeof c === 'number') {
    // A double on the right: only a double on the left compares; anything else falls back.
    switch (op) {
      case '<':
        return (record) => {
          const left = aField === undefined ? a(record) : record[aField];
          return typeof left === 'number' ? left < c : FALLBACK;
        };
      case '<=':
        return (record) => {
          const left = aField === undefined ? a(record) : record[aField];
          return typeof left === 'number' ? left <= c : FALLBACK;
        };
      case '>':
        return (record) => {
          const left = aField === undefined ? a(record) : record[aField];
          return typeof left === 'number' ? left > c : FALLBACK;
        };
      case '>=':
        return (record) => {
          const left = aField === undefined ? a(record) : record[aField];
          return typeof left === 'number' ? left >= c : FALLBACK;
        };
    }
  }
  const test = COMPARE[op];
  return (record) => {
    const left = aField === undefined ? a(record) : record[aField];
    const right = bField === undefined ? b(record) : record[bField];
    // Doubles with doubles, strings with strings (cel-js compares strings by UTF-16 units, as `<` does).
    if (!((typeof left === 'number' && typeof right === 'number') || (typeof left === 'string' && typeof right === 'string'))) return FALLBACK;
    return test(left, right);
  };
}

const COMPARE = {
  '<': (a: number | string, b: number | string) => a < b,
  '<=': (a: number | string, b: number | string) => a <= b,
  '>': (a: number | string, b: number | string) => a > b,
  '>=': (a: number | string, b: number | string) => a >= b,
};

export function isNullable(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

export function isScalar(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint';
}

/** A plain object (JSON object, constants map): what cel-js treats as a map by property access. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const constructor = (value as object).constructor;
  return constructor === Object || constructor === undefined;
}

/** Values cel-js passes through unchanged: scalars, plain objects and arrays (FALLBACK, a symbol, is none). */
export function isCelValue(value: unknown): boolean {
  if (isScalar(value)) return true;
  return isPlainObject(value) || Array.isArray(value);
}

/**
 * True when cel-js can type the map `map` as an operand of a binary operator (`in`): it types a
 * map or list by its first member or element, deeply (its evaluator's debugTypeDeep), and throws
 * unsupported_type where that is undefined (`{ u: undefined, k: 1 }`, or nested so). The first
 * member is read by a `for…in` that returns at once; with a scalar there, the usual case, an `in`
 * on a record's map measured ~37 → ~67 ns (the differential fuzz found the divergence).
 */
export function mapHasOperandType(map: Record<string, unknown>): boolean {
  for (const key in map) {
    const first = map[key];
    return typeof first === 'string' || typeof first === 'number' || typeof first === 'boolean' || hasOperandType(first);
  }
  return true;
}

/**
 * Whether cel-js can type `value` so: a scalar, a list by its first element, a map by its first
 * member. An object of a class is left to cel-js: it knows some (Date, Uint8Array), not others.
 */
function hasOperandType(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return isScalar(value);
  // An empty list, or one whose first element is a hole or undefined, is typed `list`.
  if (Array.isArray(value)) return value[0] === undefined || hasOperandType(value[0]);
  return isPlainObject(value) && mapHasOperandType(value);
}
