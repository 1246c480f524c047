import { describe, expect, it } from 'vitest';
import { bindExpression, interpretExpression } from '../../src/operators/transforms/expression.ts';
import { seededRandom } from '../support/seeded-random.ts';

/*
 * A bounded differential fuzz of the compiled path (cel-compiler.ts closures, cel-js where they
 * cannot decide) against cel-js alone: random expressions over the operators the compiler
 * handles, on random records of doubles, ints, strings, bools, nulls, lists, maps and missing
 * fields, with and without pipeline constants. Seeded and of a fixed size, so a run is the same
 * every time; each divergence it found is fixed and kept in transforms-cel-compiler.test.ts's table.
 */

const EXPRESSIONS = 3_000;
const RECORDS_PER_EXPRESSION = 6;
const FIELDS = ['a', 'b', 'c', 'd', 's', 't', 'm', 'l', 'toString', 'constructor'] as const;

type Random = () => number;

const pick = <T,>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function doubleLiteral(random: Random): string {
  return pick(random, ['0.0', '1.0', '2.5', '-1.0', '-0.0', '1e300', '0.1', '3.0', '100.0', '1e-300']);
}

function intLiteral(random: Random): string {
  return pick(random, ['0', '1', '2', '-3', '9223372036854775807', '-9223372036854775808', '1u', '0u']);
}

function stringLiteral(random: Random): string {
  return pick(random, ['""', '"a"', '"ab"', '"abc"', '"b"', '"\\u00e9"', '"😀"', '"A"', '"k"', '"constructor"', '"__proto__"', '"m"']);
}

function leaf(random: Random): string {
  const roll = random();
  if (roll < 0.4) return pick(random, FIELDS);
  if (roll < 0.44) return `${pick(random, ['m', 'prices'])}.${pick(random, ['k', 'x', 'input', 'nope', 'm'])}`;
  // A record-chosen key into a constant: folded into a table at compile time (cel-compiler.ts).
  if (roll < 0.48) return `prices[${pick(random, FIELDS)}]${pick(random, ['.input', '.k', '', '["input"]', '.n'])}`;
  if (roll < 0.64) return doubleLiteral(random);
  if (roll < 0.74) return stringLiteral(random);
  if (roll < 0.79) return intLiteral(random);
  if (roll < 0.86) return pick(random, ['true', 'false']);
  if (roll < 0.9) return 'null';
  if (roll < 0.95) return pick(random, ['limit', 'prices', 'missing', 'm.constructor', 'm["__proto__"]', 'm.toString', 'hasOwnProperty']);
  return pick(random, ['[1.0, 2.0]', '["a", "b"]', '[]', '{"k": 1.0}', '{"a": "x"}', '{}']);
}

function expression(random: Random, depth: number): string {
  if (depth <= 0 || random() < 0.25) return leaf(random);
  const sub = () => expression(random, depth - 1);
  const roll = random();
  if (roll < 0.2) return `${sub()} ${pick(random, ['+', '-', '*', '/'])} ${sub()}`;
  if (roll < 0.38) return `${sub()} ${pick(random, ['<', '<=', '>', '>=', '==', '!='])} ${sub()}`;
  if (roll < 0.5) return `(${sub()} ${pick(random, ['&&', '||'])} ${sub()})`;
  if (roll < 0.55) return `!${sub()}`;
  if (roll < 0.58) return `-${sub()}`;
  if (roll < 0.66) return `(${sub()} ? ${sub()} : ${sub()})`;
  if (roll < 0.72) return `${sub()} in ${pick(random, ['m', 'l', 'prices', '[1.0, "a"]', '["a", "b"]', '{"k": 1.0}', sub()])}`;
  if (roll < 0.8) return `(${sub()}).${pick(random, ['startsWith', 'endsWith', 'contains'])}(${random() < 0.6 ? stringLiteral(random) : sub()})`;
  if (roll < 0.84) return `size(${sub()})`;
  if (roll < 0.88) return `has(${pick(random, ['m', 'prices'])}.${pick(random, ['k', 'x', 'nope'])})`;
  if (roll < 0.92) return `${pick(random, ['string', 'double'])}(${sub()})`;
  if (roll < 0.96) return `${pick(random, ['m', 'prices', 'l'])}[${sub()}]`;
  return `(${sub()})`;
}

function value(random: Random, depth = 1): unknown {
  const roll = random();
  if (roll < 0.3) return pick(random, [0, -0, 1, 2.5, -1, 0.1, 1e300, 3, 100, Number.NaN, Number.POSITIVE_INFINITY]);
  if (roll < 0.5) return pick(random, ['', 'a', 'ab', 'abc', 'b', 'é', '😀', 'k', 'm', 'x', 'constructor']);
  if (roll < 0.6) return random() < 0.5;
  if (roll < 0.68) return null;
  if (roll < 0.76) return pick(random, [0n, 1n, 2n, -3n, 9223372036854775807n]);
  if (roll < 0.84 && depth > 0) return map(random, depth - 1);
  if (roll < 0.9 && depth > 0) return [value(random, 0), value(random, 0)];
  // Values other codecs or odd records may hold: cel-js types some of these classes, and not others.
  if (roll < 0.93) return pick(random, [new Date(0), new Uint8Array([1]), new Map([['k', 1]]), Object.assign(Object.create(null), { k: 1.5 }), { toString: 'x', k: 2 }, [undefined, 1]]);
  return undefined;
}

/** A map whose members may be undefined, the first one too (cel-js types a map by its first member). */
function map(random: Random, depth = 0): Record<string, unknown> {
  return { k: random() < 0.25 ? undefined : value(random, depth), x: value(random, depth), m: value(random, 0) };
}

function record(random: Random): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of FIELDS) {
    // `m` and `l` are a map and a list more often than not: the `in` and `[]` of the grammar use them.
    const v = field === 'm' && random() < 0.6 ? map(random) : field === 'l' && random() < 0.6 ? [value(random, 0), value(random, 0)] : value(random);
    if (v !== undefined) out[field] = v;
  }
  return out;
}

type Outcome = { value: unknown } | { error: { name: string; code: unknown; message: string } };

function outcome(evaluate: (record: Record<string, unknown>) => unknown, input: Record<string, unknown>): Outcome {
  try {
    return { value: evaluate(input) };
  } catch (error) {
    const { name, code, message } = error as { name: string; code?: unknown; message: string };
    return { error: { name, code, message } };
  }
}

const CONSTANTS = {
  prices: { m: { input: 0.5, n: null }, x: { input: 2, k: [1] }, k: 1.5, a: null, b: 'str', abc: { input: 1n }, constructor: { input: 3 } },
  limit: 3.5,
  s: 'shadows the record field',
};

function describeCase(source: string, input: Record<string, unknown>, constants: object): string {
  return `${source} on ${text(input)}${Object.keys(constants).length > 0 ? ' with constants' : ''}`;
}

describe('compiled CEL against cel-js on random expressions', () => {
  it(`${EXPRESSIONS} expressions, ${RECORDS_PER_EXPRESSION} records each, give the same value or error`, () => {
    const random = seededRandom(0x5eed_ce1);
    const diverged: string[] = [];
    let compared = 0;
    for (let i = 0; i < EXPRESSIONS; i++) {
      const source = expression(random, 1 + Math.floor(random() * 3));
      const constants = random() < 0.5 ? CONSTANTS : {};
      let compiled: (record: Record<string, unknown>) => unknown;
      let reference: (record: Record<string, unknown>) => unknown;
      try {
        compiled = bindExpression(source, constants);
        reference = interpretExpression(source, constants);
      } catch {
        continue; // Does not parse: neither path has an expression to run.
      }
      for (let r = 0; r < RECORDS_PER_EXPRESSION; r++) {
        const input = record(random);
        const got = outcome(compiled, input);
        const want = outcome(reference, input);
        compared++;
        if (!sameOutcome(got, want)) diverged.push(`${describeCase(source, input, constants)}: compiled ${show(got)}, cel-js ${show(want)}`);
      }
    }
    expect(diverged.slice(0, 20)).toEqual([]);
    expect(compared).toBeGreaterThan(EXPRESSIONS * RECORDS_PER_EXPRESSION * 0.9);
  });
});

/** Equal outcomes, as their text: NaN equals NaN, -0 is not 0 (a division by it would tell), cel-js's own values by class. */
function sameOutcome(a: Outcome, b: Outcome): boolean {
  return show(a) === show(b);
}

function show(o: Outcome): string {
  return 'error' in o ? `error ${o.error.name} ${String(o.error.code)}: ${o.error.message}` : text(o.value);
}

/** A value as text, by hand: JSON.stringify would call a toJSON of the value's own (Date.prototype's throws). */
function text(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return `[${v.map(text).join(', ')}]`;
  const prototype = Object.getPrototypeOf(v) as object | null;
  if (prototype === Object.prototype || prototype === null) return `{${Object.entries(v).map(([key, member]) => `${JSON.stringify(key)}: ${text(member)}`).join(', ')}}`;
  if (v instanceof Date) return `Date ${v.getTime()}`;
  return `${prototype.constructor?.name ?? 'object'} ${textOf(v)}`;
}

function textOf(v: object): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
