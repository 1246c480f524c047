/**
 * The operators of compiled CEL (cel-compiler.ts): closures for comparison, equality with a
 * literal and arithmetic on doubles and strings, each returning FALLBACK wherever cel-js alone
 * can say what the expression gives (ints, mixed types, errors). An operator whose right operand
 * is a literal (a closure `literal` marked) tests only its left operand.
 */

/** Returned by a compiled closure when only cel-js can say what the expression gives. */
export const FALLBACK: unique symbol = Symbol('cel-fallback');

export type CompiledCel = (record: Record<string, unknown>) => unknown;

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
  if (c === null) {
    return (record) => {
      const left = a(record);
      if (left === null) return !negate;
      return isNullable(left) ? negate : FALLBACK;
    };
  }
  const type = typeof c;
  return (record) => {
    const left = a(record);
    if (typeof left === type) return (left === c) !== negate;
    return left === null ? negate : FALLBACK;
  };
}

export function comparison(op: '<' | '<=' | '>' | '>=', a: CompiledCel, b: CompiledCel): CompiledCel {
  const c = literals.get(b);
  if (typeof c === 'number') {
    // A double on the right: only a double on the left compares; anything else falls back.
    switch (op) {
      case '<':
        return (record) => {
          const left = a(record);
          return typeof left === 'number' ? left < c : FALLBACK;
        };
      case '<=':
        return (record) => {
          const left = a(record);
          return typeof left === 'number' ? left <= c : FALLBACK;
        };
      case '>':
        return (record) => {
          const left = a(record);
          return typeof left === 'number' ? left > c : FALLBACK;
        };
      case '>=':
        return (record) => {
          const left = a(record);
          return typeof left === 'number' ? left >= c : FALLBACK;
        };
    }
  }
  const test = COMPARE[op];
  return (record) => {
    const left = a(record);
    const right = b(record);
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

export function arithmetic(op: '+' | '-' | '*' | '/', a: CompiledCel, b: CompiledCel): CompiledCel {
  const c = literals.get(b);
  if (typeof c === 'number' && op !== '+') {
    // A double on the right of -, *, /: only a double on the left computes (+ also joins strings: general case).
    switch (op) {
      case '-':
        return (record) => {
          const left = a(record);
          return typeof left === 'number' ? left - c : FALLBACK;
        };
      case '*':
        return (record) => {
          const left = a(record);
          return typeof left === 'number' ? left * c : FALLBACK;
        };
      case '/':
        return (record) => {
          const left = a(record);
          return typeof left === 'number' ? left / c : FALLBACK;
        };
    }
  }
  switch (op) {
    case '+':
      return (record) => {
        const left = a(record);
        const right = b(record);
        if (typeof left === 'number' && typeof right === 'number') return left + right;
        if (typeof left === 'string' && typeof right === 'string') return left + right;
        return FALLBACK;
      };
    case '-':
      return (record) => {
        const left = a(record);
        const right = b(record);
        return typeof left === 'number' && typeof right === 'number' ? left - right : FALLBACK;
      };
    case '*':
      return (record) => {
        const left = a(record);
        const right = b(record);
        return typeof left === 'number' && typeof right === 'number' ? left * right : FALLBACK;
      };
    case '/':
      return (record) => {
        const left = a(record);
        const right = b(record);
        return typeof left === 'number' && typeof right === 'number' ? left / right : FALLBACK;
      };
  }
}

export function isNullable(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
